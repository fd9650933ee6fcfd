"""The cluster's kubeconfig as AKS returns it, made usable by a non-interactive `pulumi up`."""

from __future__ import annotations

import base64

import yaml


def decode_kubeconfig(encoded: str, entra_id: bool) -> str:
    """Decode the base64 kubeconfig of `listManagedClusterUserCredentials`.

    On an Entra ID cluster the kubeconfig runs `kubelogin` with `--login devicecode`, which would stop
    `pulumi up` at a browser prompt. Switch it to `--login azurecli`: the token then comes from the
    `az login` session that deploys the stack (what `kubelogin convert-kubeconfig -l azurecli` does).
    """
    text = base64.b64decode(encoded).decode("utf-8")
    if not entra_id:
        return text
    config = yaml.safe_load(text)
    for user in config.get("users") or []:
        exec_spec = (user.get("user") or {}).get("exec")
        if not exec_spec or exec_spec.get("command") != "kubelogin":
            continue
        args = list(exec_spec.get("args") or [])
        server_id = args[args.index("--server-id") + 1] if "--server-id" in args[:-1] else None
        exec_spec["args"] = ["get-token", "--login", "azurecli"] + (["--server-id", server_id] if server_id else [])
    return yaml.safe_dump(config, sort_keys=False)
