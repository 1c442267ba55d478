"""The backend flags' parser (cohorts/backend.py): what it takes, what it refuses in one line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labctl.cohorts.backend import PASSPHRASE, Backend, parse_backend
from labctl.labs.errors import InputError

KMS = "awskms:///arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34bc-56ef-1234567890ab?region=us-east-1"


@pytest.mark.parametrize("url, org, provider, expected", [
    ("s3://labs-state", None, None, Backend("s3://labs-state")),
    ("s3://labs-state?endpoint=minio:9000&region=us-east-1&s3ForcePathStyle=true", None, None,
     Backend("s3://labs-state?endpoint=minio:9000&region=us-east-1&s3ForcePathStyle=true")),
    ("s3://labs.state?endpoint=http://10.0.0.5:9000&region=eu-west-1", None, KMS,
     Backend("s3://labs.state?endpoint=http://10.0.0.5:9000&region=eu-west-1", None, KMS)),
    ("https://api.pulumi.com", "acme", None, Backend("https://api.pulumi.com", "acme")),
    ("https://pulumi.internal.example.edu", "cs-dept", "awskms://alias/labs?region=us-east-1",
     Backend("https://pulumi.internal.example.edu", "cs-dept", "awskms://alias/labs?region=us-east-1")),
    ("file:///srv/pulumi-state", None, None, Backend("file:///srv/pulumi-state")),
])
def test_backends_labctl_takes(url, org, provider, expected):
    assert parse_backend(url, org, provider) == expected


@pytest.mark.parametrize("url, org, provider, env, where, message", [
    ("s4://labs-state", None, None, None, "--backend", "is not a backend labctl takes"),
    ("labs-state", None, None, None, "--backend", "is not a backend labctl takes"),
    ("s3://Labs_State", None, None, None, "--backend", "is not an S3 bucket name"),
    ("s3://ab", None, None, None, "--backend", "is not an S3 bucket name"),
    ("s3://labs-state/prefix", None, None, None, "--backend", "no path"),
    ("s3://key:secret@labs-state", None, None, None, "--backend", "no credentials"),
    ("s3://labs-state?endpont=minio:9000", None, None, None, "--backend", "unknown option 'endpont'"),
    ("s3://labs-state?region=", None, None, None, "--backend", "option 'region' has no value"),
    ("s3://labs-state?endpoint=minio 9000", None, None, None, "--backend", "is not host[:port]"),
    ("s3://labs-state?region", None, None, None, "--backend", "not name=value pairs"),
    ("https://api.pulumi.com", None, None, None, "--org", "a Pulumi Cloud backend needs --org"),
    ("https://api.pulumi.com/acme", "acme", None, None, "--backend", "its API URL alone"),
    ("s3://labs-state", "acme", None, None, "--org", "--org is only for a Pulumi Cloud backend"),
    ("https://api.pulumi.com", "ac me", None, None, "--org", "not a Pulumi Cloud organisation name"),
    ("file://relative/path", None, None, None, "--backend", "absolute path"),
    ("s3://labs-state", None, "hashivault://key", None, "--secrets-provider", "not a secrets provider"),
    ("s3://labs-state", None, "awskms://", None, "--secrets-provider", "not a secrets provider"),
    ("s3://labs-state", None, None, "lab-pass", "--passphrase-env", "not an environment variable name"),
    ("s3://labs-state", None, KMS, "LAB_PASS", "--passphrase-env", "goes with --secrets-provider passphrase"),
])
def test_bad_backends_are_one_line_naming_the_flag(url, org, provider, env, where, message):
    with pytest.raises(InputError) as caught:
        parse_backend(url, org, provider, env)
    assert caught.value.where == where and message in caught.value.message
    assert "\n" not in str(caught.value)


def test_a_passphrase_is_named_by_its_variable_only():
    backend = parse_backend("s3://labs-state", passphrase_env="CS101_PASSPHRASE")
    assert backend.to_dict() == {"url": "s3://labs-state", "org": None, "secrets_provider": PASSPHRASE,
                                 "passphrase_env": "CS101_PASSPHRASE"}
    assert parse_backend("s3://labs-state", secrets_provider=KMS).to_dict()["passphrase_env"] is None


def test_stack_names_are_fully_qualified_on_pulumi_cloud_only():
    assert parse_backend("https://api.pulumi.com", "acme").stack("f1.ada", "labctl") == "acme/labctl/f1.ada"
    assert parse_backend("s3://labs-state").stack("f1.ada", "labctl") == "f1.ada"
    assert [parse_backend(u).shared for u in ("s3://labs-state", "file:///srv/state")] == [True, False]


BUCKETS = st.from_regex(r"\A[a-z0-9][a-z0-9-]{1,20}[a-z0-9]\Z")
HOSTS = st.from_regex(r"\A[a-z][a-z0-9]{0,10}(\.[a-z]{2,5})?\Z")


@settings(max_examples=200, deadline=None)
@given(bucket=BUCKETS, host=HOSTS, port=st.integers(1, 65535), region=st.from_regex(r"\A[a-z]{2}-[a-z]+-[1-9]\Z"),
       scheme=st.sampled_from(["", "http://", "https://"]))
def test_property_every_well_formed_s3_url_is_taken_unchanged(bucket, host, port, region, scheme):
    url = f"s3://{bucket}?endpoint={scheme}{host}:{port}&region={region}"
    backend = parse_backend(url)
    assert backend.url == url and backend.kind == "s3" and backend.shared


@settings(max_examples=300, deadline=None)
@given(url=st.text(max_size=80), org=st.one_of(st.none(), st.text(max_size=20)),
       provider=st.one_of(st.none(), st.text(max_size=40)))
def test_property_any_input_is_a_backend_or_one_input_error_line(url, org, provider):
    try:
        backend = parse_backend(url, org, provider)
    except InputError as exc:
        assert "\n" not in str(exc) and exc.where in ("--backend", "--org", "--secrets-provider")
        return
    assert backend.kind in ("s3", "file", "cloud")
    assert (backend.kind == "cloud") == (backend.org is not None)
