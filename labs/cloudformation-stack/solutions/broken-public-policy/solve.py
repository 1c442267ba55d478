"""A template that gets the bucket right and then adds a bucket policy letting anyone read the
artifacts (the public access block that would refuse it taken out "so the build server can download").

no-public-policy fails. Run by hand like the reference, with AWS_ENDPOINT_URL (optional),
LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import edit, reference, run_by_hand

PUBLIC_ACCESS_BLOCK = """\
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
"""
# The mistake: "so the build server can download" done with a public policy.
PUBLIC_POLICY = """\
  ArtifactsPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref ArtifactsBucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: s3:GetObject
            Resource: arn:aws:s3:::PREFIX-artifacts/*
"""

solve = reference(__file__, TEMPLATE=edit(reference(__file__).TEMPLATE, PUBLIC_ACCESS_BLOCK, PUBLIC_POLICY)).solve

if __name__ == "__main__":
    run_by_hand(solve)
