"""aks-microservices: an AKS cluster, an Azure Container Registry and five microservice apps, as one stack.

The same program serves `pulumi up` and the offline engine (`python -m offline render`).
"""

import pulumi

from infra import build_platform
from settings import load_settings
from stacks import deploy_apps, images_used

try:
    settings = load_settings()
    platform = build_platform(settings, images_used(settings))
    app_outputs = deploy_apps(settings, platform)
except ValueError as error:
    # Bad config or component arguments: one clear line, no Python traceback in `pulumi up`.
    raise pulumi.RunError(str(error)) from None

for key, value in platform.outputs.items():
    pulumi.export(key, value)
for app, outputs in app_outputs.items():
    pulumi.export(app, outputs)
