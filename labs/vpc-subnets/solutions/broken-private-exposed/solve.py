"""Everything built, but the private subnet is associated with the public route table, so it
routes 0.0.0.0/0 to the internet gateway.

private-route fails. Run by hand like the reference, with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX
and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

steps = reference(__file__)


def one_table(ec2, vpc_id: str, igw_id: str, public: str, private: str, prefix: str, student: str) -> None:
    table = ec2.create_route_table(
        VpcId=vpc_id, TagSpecifications=steps.named("route-table", f"{prefix}-rt", prefix, student)
    )["RouteTable"]["RouteTableId"]
    steps.route_to_internet(ec2, table, igw_id)
    # The mistake: one route table "for simplicity" shared by both tiers.
    for subnet in (public, private):
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)


solve = reference(__file__, route_tables=one_table).solve

if __name__ == "__main__":
    run_by_hand(solve)
