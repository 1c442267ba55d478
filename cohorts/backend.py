"""Where a cohort's Pulumi state lives and how its secrets are encrypted: the home's file backend (the
default), an S3-compatible bucket, or a Pulumi Cloud organisation; a passphrase or an AWS KMS key.

Recorded per cohort in the registry. A passphrase is never recorded: only the name of the environment
variable that holds it on each machine that runs the cohort's stacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from labctl.labs.errors import InputError

PULUMI_CLOUD = "https://api.pulumi.com"
PASSPHRASE = "passphrase"
DEFAULT_PASSPHRASE_ENV = "LABCTL_PASSPHRASE"
# gocloud.dev's s3blob URL options (what the CLI's S3 backend accepts), plus the CLI's own.
S3_OPTIONS = frozenset({"endpoint", "region", "profile", "awssdk", "disableSSL", "s3ForcePathStyle",
                        "use_path_style", "disable_https", "dualstack", "fips", "anonymous"})
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
ENDPOINT = re.compile(r"^(https?://)?[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$")
ORG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
KMS_KEY = re.compile(r"^awskms://(/arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+"
                     r"|alias/[A-Za-z0-9/_-]+|[0-9a-f-]{36})(\?region=[a-z0-9-]+)?$")


@dataclass(frozen=True)
class Backend:
    url: str
    """`file://…`, `s3://bucket?…` or a Pulumi Cloud API URL."""
    org: str | None = None
    """The Pulumi Cloud organisation (Pulumi Cloud only)."""
    secrets_provider: str = PASSPHRASE
    """`passphrase` or an `awskms://…` key."""
    passphrase_env: str = DEFAULT_PASSPHRASE_ENV
    """The environment variable that holds the passphrase (with `passphrase`): its name, never its value."""

    @property
    def kind(self) -> str:
        return urlsplit(self.url).scheme if not self.url.startswith("https://") else "cloud"

    @property
    def shared(self) -> bool:
        """Whether machines other than this one reach the state (anything but a file backend)."""
        return self.kind != "file"

    def stack(self, name: str, project: str) -> str:
        """The stack's name as the CLI and the operator take it: `<org>/<project>/<name>` on Pulumi Cloud."""
        return f"{self.org}/{project}/{name}" if self.kind == "cloud" else name

    def to_dict(self) -> dict[str, str | None]:
        return {"url": self.url, "org": self.org, "secrets_provider": self.secrets_provider,
                "passphrase_env": self.passphrase_env if self.secrets_provider == PASSPHRASE else None}


def parse_backend(url: str, org: str | None = None, secrets_provider: str | None = None,
                  passphrase_env: str | None = None, where: str = "--backend") -> Backend:
    """A backend from the user's flags, or an InputError (exit 2) naming what is wrong."""
    url = url.strip()
    scheme = urlsplit(url).scheme
    if scheme == "s3":
        check_s3(url, where)
    elif scheme == "file":
        if urlsplit(url).netloc or not urlsplit(url).path.startswith("/"):
            raise InputError(f"{url!r}: a file backend needs an absolute path (file:///…)", where)
    elif scheme == "https":
        check_cloud(url, where)
    else:
        raise InputError(
            f"{url!r} is not a backend labctl takes: s3://bucket?endpoint=…&region=…, {PULUMI_CLOUD} (with --org)"
            " or file:///path", where)
    if (scheme == "https") != (org is not None):
        problem = "a Pulumi Cloud backend needs --org" if org is None else "--org is only for a Pulumi Cloud backend"
        raise InputError(problem, "--org")
    if org is not None and not ORG.match(org):
        raise InputError(f"{org!r} is not a Pulumi Cloud organisation name", "--org")
    provider = check_secrets_provider(secrets_provider or PASSPHRASE)
    env = passphrase_env or DEFAULT_PASSPHRASE_ENV
    if not ENV_NAME.match(env):
        raise InputError(f"{env!r} is not an environment variable name (A-Z, 0-9, _)", "--passphrase-env")
    if passphrase_env and provider != PASSPHRASE:
        raise InputError("--passphrase-env goes with --secrets-provider passphrase", "--passphrase-env")
    return Backend(url, org, provider, env)


def check_s3(url: str, where: str) -> None:
    parts = urlsplit(url)
    if parts.path not in ("", "/") or parts.fragment or parts.username or parts.password:
        raise InputError(f"{url!r}: an S3 backend is s3://bucket?endpoint=…&region=… (no path, no credentials)", where)
    if not BUCKET.match(parts.hostname or "") or ".." in (parts.hostname or "") or parts.port is not None:
        raise InputError(f"{url!r}: {parts.netloc!r} is not an S3 bucket name", where)
    try:
        options = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise InputError(f"{url!r}: the query is not name=value pairs joined by &", where) from None
    for name, value in options:
        if name not in S3_OPTIONS:
            raise InputError(f"{url!r}: unknown option {name!r} (known: {', '.join(sorted(S3_OPTIONS))})", where)
        if not value:
            raise InputError(f"{url!r}: option {name!r} has no value", where)
        if name == "endpoint" and not ENDPOINT.match(value):
            raise InputError(f"{url!r}: endpoint {value!r} is not host[:port] or http(s)://host[:port]", where)


def check_cloud(url: str, where: str) -> None:
    parts = urlsplit(url)
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise InputError(f"{url!r}: a Pulumi Cloud backend is its API URL alone, like {PULUMI_CLOUD}", where)


def check_secrets_provider(provider: str) -> str:
    if provider == PASSPHRASE or KMS_KEY.match(provider):
        return provider
    raise InputError(
        f"{provider!r} is not a secrets provider labctl takes: passphrase, or"
        " awskms:///arn:aws:kms:REGION:ACCOUNT:key/ID?region=REGION (or awskms://alias/NAME?region=REGION)",
        "--secrets-provider",
    )
