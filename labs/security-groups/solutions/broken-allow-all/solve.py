""" "Allow all traffic" from anywhere: the web works, and so does everything else.

least-privilege fails and the no-open-ssh and no-open-all-ports guards apply. Run by hand like the
reference, with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand


def all_traffic() -> list[dict]:
    return [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "all traffic"}]}]


solve = reference(__file__, ingress=all_traffic).solve

if __name__ == "__main__":
    run_by_hand(solve)
