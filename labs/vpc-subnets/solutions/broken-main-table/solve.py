"""A common shortcut: the internet route goes into the VPC's main route table and no subnet gets
a table of its own, so both subnets (and every future one) are public.

public-route and private-route fail and the main-table-private guard applies. Run by hand like the
reference, with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand


def route_the_main_table(ec2, vpc_id: str, igw_id: str, public: str, private: str, prefix: str, student: str) -> None:
    main = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"][0]["RouteTableId"]
    # The mistake: the default route on the main table makes every subnet without a table public.
    ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)


solve = reference(__file__, route_tables=route_the_main_table).solve

if __name__ == "__main__":
    run_by_hand(solve)
