"""Fixtures for the validator tests: the S3 lab spec and an S3 client on the real moto server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from labctl.labs.catalog import get_lab
from labctl.labs.spec import LabSpec
from s3_states import LAB

if TYPE_CHECKING:
    import boto3


@pytest.fixture(scope="session")
def lab() -> LabSpec:
    return get_lab(LAB).spec


@pytest.fixture
def s3(aws: boto3.Session, moto_endpoint: str):
    return aws.client("s3", endpoint_url=moto_endpoint)
