"""A partial solution of vpc-subnets: the VPC, both subnets and their route tables, but no
internet gateway, so the public subnet cannot reach the internet.

internet-gateway and public-route fail. Run by hand like the reference, with AWS_ENDPOINT_URL
(optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand


def no_gateway(ec2, vpc_id: str, prefix: str, student: str) -> None:
    """The step the student has not got to (and so nothing to route to)."""


def no_route(ec2, route_table: str, igw_id: None) -> None:
    """Without a gateway there is no internet route."""


solve = reference(__file__, attach_gateway=no_gateway, route_to_internet=no_route).solve

if __name__ == "__main__":
    run_by_hand(solve)
