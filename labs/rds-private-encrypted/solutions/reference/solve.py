"""Reference solution of rds-private-encrypted: a small, private, encrypted single-AZ PostgreSQL
with seven days of automated backups.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import os
import secrets
import sys

import boto3


INSTANCE = {
    "Engine": "postgres",
    "AllocatedStorage": 20,
    "MasterUsername": "labadmin",
    "DBInstanceClass": "db.t4g.micro",
    "StorageEncrypted": True,
    "PubliclyAccessible": False,
    "BackupRetentionPeriod": 7,
    "MultiAZ": False,
    "Tags": [{"Key": "lab", "Value": "rds-private-encrypted"}],
}


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    rds = session.client("rds", endpoint_url=endpoint_url)
    # A throwaway password for the lab; a real service would let RDS manage it in Secrets Manager.
    password = secrets.token_urlsafe(24)
    rds.create_db_instance(DBInstanceIdentifier=f"{prefix}-db", MasterUserPassword=password, **INSTANCE)


if __name__ == "__main__":
    missing = [name for name in ("LABCTL_PREFIX", "LABCTL_STUDENT") if not os.environ.get(name)]
    if missing:
        sys.exit(f"set {' and '.join(missing)} first (labctl student env prints them)")
    solve(
        boto3.Session(),
        os.environ.get("AWS_ENDPOINT_URL"),
        os.environ["LABCTL_PREFIX"],
        os.environ["LABCTL_STUDENT"],
    )
