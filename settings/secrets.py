"""Secret values a stack may supply instead of generated ones.

Set them with `pulumi config set --secret --path 'secrets.<key>' <value>`: the whole `secrets` map is then
a Pulumi secret. Values are read only as `pulumi.Output` secrets (`secret_input`), never as plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from settings.schema import NAMESPACE, given, setting, text

# key -> what it is for; each app reads its own.
SECRET_KEYS = {
    "fibonacciPostgresPassword": "Postgres password of the Fibonacci app (Secret `pgpassword`).",
    "todoMysqlPassword": "MySQL root password of the To Do app (Secret `mysqlpwd`).",
    "knoteMinioAccessKey": "MinIO access key (root user) of the Knote app.",
    "knoteMinioSecretKey": "MinIO secret key (root password) of the Knote app.",
}


@dataclass(frozen=True)
class SecretSettings:
    """Which secrets the stack supplies. Only presence is kept: values are read as secret Outputs."""

    fibonacci_postgres_password: bool = setting(
        "fibonacciPostgresPassword", SECRET_KEYS["fibonacciPostgresPassword"], given(text()), default=False, doc_default="generated"
    )
    todo_mysql_password: bool = setting(
        "todoMysqlPassword", SECRET_KEYS["todoMysqlPassword"], given(text()), default=False, doc_default="generated"
    )
    # MinIO refuses a root user shorter than 3 characters and a root password shorter than 8 (its Helm chart,
    # github.com/minio/minio helm/minio/values.yaml: "access key length should be at least 3 character long",
    # "secret key length should be at least 8 character long").
    knote_minio_access_key: bool = setting(
        "knoteMinioAccessKey", SECRET_KEYS["knoteMinioAccessKey"], given(text(min_length=3)), default=False,
        doc_default="generated",
    )
    knote_minio_secret_key: bool = setting(
        "knoteMinioSecretKey", SECRET_KEYS["knoteMinioSecretKey"], given(text(min_length=8)), default=False,
        doc_default="generated",
    )

    def secret_input(self, key: str) -> pulumi.Output[str] | None:
        """The configured secret as a Pulumi secret Output, or None when it should be generated."""
        if key not in SECRET_KEYS:
            raise KeyError(key)
        if not getattr(self, _attr(key)):
            return None
        return pulumi.Config(NAMESPACE).require_secret_object("secrets").apply(lambda values: values[key])


def _attr(key: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in key)
