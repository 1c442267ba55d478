"""The cost policy pack, run by `pulumi preview --policy-pack policies/cost`.

Pulumi runs this file as a script from the pack directory, so the repository root goes on sys.path
for `policies` (and `labs`) to import. Constructing the PolicyPack starts its gRPC server and blocks.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.pulumi_adapter import pack_policies  # noqa: E402

PolicyPack(
    name="labctl-cost",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=pack_policies("cost"),
)
