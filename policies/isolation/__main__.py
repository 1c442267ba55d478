"""The isolation policy pack, run by `pulumi preview --policy-pack policies/isolation`.

Pulumi runs this file as a script from the pack directory in the virtualenv named by PulumiPolicy.yaml,
where labctl is installed. Constructing the PolicyPack starts its gRPC server and blocks.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from labctl.policies.pulumi_adapter import pack_policies

PolicyPack(
    name="labctl-isolation",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=pack_policies("isolation"),
)
