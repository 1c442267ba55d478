"""s3-secure-bucket opened up "to share the reports": public access block off, a public-read bucket
policy, and SSE-S3 (AES256) instead of SSE-KMS.

encryption and public-access-block fail and the no-public-policy guard applies. Run by hand like the
reference, with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import json

from labctl.labs.solutions import reference, run_by_hand

SSE_S3 = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}


def share_publicly(s3, bucket: str) -> None:
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


solve = reference(__file__, block_public_access=share_publicly, ENCRYPTION=SSE_S3).solve

if __name__ == "__main__":
    run_by_hand(solve)
