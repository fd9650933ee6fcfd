"""Entry point of the policy pack: `pulumi preview --policy-pack policy --policy-pack-config policy/config.json`.

The Pulumi CLI runs this file with the pack's folder on sys.path; the policies live in `aks_policies/`.
"""

from aks_policies import ALL_POLICIES, PACK_NAME
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name=PACK_NAME, policies=ALL_POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
