"""Defaults nobody changed: no storage encryption, a production-sized class in Multi-AZ.

encrypted, small-class and single-az fail. Run by hand like the reference, with AWS_ENDPOINT_URL
(optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

DEFAULTS = {"DBInstanceClass": "db.m5.large", "StorageEncrypted": False, "MultiAZ": True}
solve = reference(__file__, INSTANCE={**reference(__file__).INSTANCE, **DEFAULTS}).solve

if __name__ == "__main__":
    run_by_hand(solve)
