"""ConfigMap and Secret checks on one namespace's objects as the API server returns them. A ConfigMap
holds its keys in data or binaryData; a Secret reaches the inventory as its type and key names only; a
Deployment mounts a ConfigMap volume (direct or projected) at the path asked, trailing slash or not,
in one of its app containers; each key is read from the Secret by secretKeyRef, or by envFrom when the
Secret has it; and no credential sits in plain text: a ConfigMap key or a `name=value` line named like a
credential, or a literal env value of any container the student wrote (bare pods and jobs, not those
a controller owns), the messages naming keys and lines, never a value."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from labctl.validators.checks.kubernetes import config
from labctl.validators.checks.kubernetes.objects import NamespaceParams
from tests.validators.k8s_objects import (
    container,
    cron_job,
    deployment,
    from_api,
    job,
    job_spec,
    metadata,
    owned_by,
    pod,
    pod_spec,
)

PASSWORD = "s3cr3t-Pa55-w0rd"
TOKEN = "tok-7Hq2ZfLw9sPx"


def config_map(name: str, data: dict[str, str] | None = None, binary: dict[str, str] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(name)}
    if data is not None:
        obj["data"] = data
    if binary is not None:
        obj["binaryData"] = binary
    return obj


def secret(name: str, keys: list[str], kind: str = "Opaque", *, string_data: tuple[str, ...] = ()) -> dict[str, Any]:
    """A Secret with base64 values; the inventory keeps only its type and key names."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(name),
        "type": kind,
        "data": {k: "czNjcjN0LVBhNTUtdzByZA==" for k in keys},
        "stringData": {k: PASSWORD for k in string_data},
    }


def secret_ref(key: str, name: str = "api-credentials") -> dict[str, Any]:
    return {"name": key, "valueFrom": {"secretKeyRef": {"name": name, "key": key}}}


def api(*containers: dict[str, Any], volumes: tuple[dict[str, Any], ...] = (), **fields: Any) -> dict[str, Any]:
    return deployment("api", pod_spec(*containers, volumes=list(volumes), **fields))


CONFIG_VOLUME = {"name": "config", "configMap": {"name": "api-config", "defaultMode": 420}}
MOUNT = {"name": "config", "mountPath": "/etc/api", "readOnly": True}
KEYS = config.ConfigMapParams(configmap="api-config", keys=["LOG_LEVEL", "app.properties"])
SECRET = config.SecretParams(secret="api-credentials", keys=["DB_PASSWORD", "API_TOKEN"])
VOLUME = config.ConfigMapVolumeParams(deployment="api", configmap="api-config", mount_path="/etc/api")
ENV = config.SecretEnvParams(deployment="api", secret="api-credentials", keys=["DB_PASSWORD", "API_TOKEN"])
CREDENTIALS = secret("api-credentials", ["API_TOKEN", "DB_PASSWORD"])


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        (config.ConfigMapParams, {"configmap": "api-config"}),
        (config.SecretParams, {"secret": "api-credentials"}),
        (config.SecretEnvParams, {"deployment": "api", "secret": "api-credentials"}),
    ],
)
def test_a_lab_names_one_key_or_more(params, fields):
    """An empty list would make the check pass whatever the namespace holds."""
    assert params(**fields, keys=["LOG_LEVEL"]).keys == ["LOG_LEVEL"]
    with pytest.raises(ValidationError):
        params(**fields, keys=[])


def test_configmap_keys_come_from_data_and_binary_data():
    both = config_map("api-config", {"LOG_LEVEL": "info"}, {"app.properties": "c2VydmVyLnBvcnQ9ODA4MA=="})
    assert config.configmap_keys(from_api(both), KEYS).status == "passed"


def test_configmap_keys_missing_are_listed_in_the_labs_order():
    result = config.configmap_keys(from_api(config_map("api-config", {"other": "x"})), KEYS)
    assert (result.status, result.message) == ("failed", "configmap api-config has no key LOG_LEVEL, app.properties")
    empty = config.configmap_keys(from_api(config_map("api-config")), KEYS)
    assert empty.message == "configmap api-config has no key LOG_LEVEL, app.properties"


def test_a_missing_configmap_fails_with_the_create_command():
    result = config.configmap_keys(from_api(config_map("api-settings", {"LOG_LEVEL": "info"})), KEYS)
    assert (result.status, result.message) == ("failed", "configmap api-config does not exist in namespace c1-ada")
    assert result.hint.startswith("kubectl -n c1-ada create configmap api-config ")


def test_a_secret_of_the_type_with_every_key_passes_keys_from_data_or_string_data():
    written = secret("api-credentials", ["DB_PASSWORD"], string_data=["API_TOKEN"])
    assert config.secret_keys(from_api(written), SECRET).status == "passed"


def test_a_secret_of_another_type_or_without_a_key_names_both():
    tls = secret("api-credentials", ["DB_PASSWORD"], "kubernetes.io/tls")
    result = config.secret_keys(from_api(tls), SECRET)
    assert (result.status, result.message) == (
        "failed",
        "secret api-credentials: type is kubernetes.io/tls, expected Opaque; it has no key API_TOKEN",
    )
    assert config.secret_keys(from_api(secret("api-credentials", ["DB_PASSWORD"])), SECRET).message == (
        "secret api-credentials: it has no key API_TOKEN"
    )
    wanted_tls = config.SecretParams(secret="api-credentials", keys=["DB_PASSWORD"], type="kubernetes.io/tls")
    assert config.secret_keys(from_api(CREDENTIALS), wanted_tls).message == (
        "secret api-credentials: type is Opaque, expected kubernetes.io/tls"
    )


def test_a_missing_secret_fails_with_the_create_command():
    result = config.secret_keys(from_api(), SECRET)
    assert (result.status, result.message) == ("failed", "secret api-credentials does not exist in namespace c1-ada")
    assert result.hint.startswith("kubectl -n c1-ada create secret generic api-credentials ")


@pytest.mark.parametrize("mount_path", ["/etc/api", "/etc/api/"])
def test_the_configmap_volume_mounted_at_the_path_passes(mount_path):
    app = api(container("api", volumeMounts=[{**MOUNT, "mountPath": mount_path}]), volumes=[CONFIG_VOLUME])
    assert config.configmap_volume(from_api(app), VOLUME).status == "passed"
    slash = config.ConfigMapVolumeParams(deployment="api", configmap="api-config", mount_path="/etc/api/")
    assert config.configmap_volume(from_api(app), slash).status == "passed"


def test_a_projected_configmap_volume_counts_in_any_container():
    projected = {"name": "all", "projected": {"sources": [{"secret": {"name": "s"}}, {"configMap": {"name": "api-config"}}]}}
    app = api(
        container("proxy"),
        container("api", volumeMounts=[{"name": "all", "mountPath": "/etc/api"}]),
        volumes=[{"name": "tmp", "emptyDir": {}}, projected],
    )
    assert config.configmap_volume(from_api(app), VOLUME).status == "passed"


def test_a_volume_from_another_configmap_is_no_volume():
    other = {"name": "config", "configMap": {"name": "web-config"}}
    projected = {"name": "all", "projected": {"sources": [{"downwardAPI": {"items": []}}, {"configMap": {"name": "web-config"}}]}}
    app = api(
        container("api", volumeMounts=[MOUNT, {"name": "all", "mountPath": "/etc/api"}]), volumes=[other, projected]
    )
    result = config.configmap_volume(from_api(app), VOLUME)
    assert (result.status, result.message) == ("failed", "deployment api has no volume from configmap api-config")
    assert result.hint.endswith("and a volumeMount at /etc/api")


def test_the_volume_mounted_elsewhere_names_each_container_and_path():
    app = api(
        container("api", volumeMounts=[{"name": "config", "mountPath": "/etc/api/conf"}]),
        container("sidecar", volumeMounts=[{"name": "config", "mountPath": "/config"}, {"name": "tmp", "mountPath": "/etc/api"}]),
        volumes=[CONFIG_VOLUME, {"name": "tmp", "emptyDir": {}}],
    )
    result = config.configmap_volume(from_api(app), VOLUME)
    assert result.message == (
        "the configmap api-config volume is mounted by api at /etc/api/conf, sidecar at /config, expected at /etc/api"
    )


def test_a_volume_only_an_init_container_mounts_is_mounted_by_no_container():
    """The init container is gone once the app runs: the app's containers must see the configuration."""
    app = api(container("api"), volumes=[CONFIG_VOLUME], initContainers=[container("render", volumeMounts=[MOUNT])])
    result = config.configmap_volume(from_api(app), VOLUME)
    assert result.message == "the configmap api-config volume is mounted by no container, expected at /etc/api"


@pytest.mark.parametrize("check", [config.configmap_volume, config.secret_env])
def test_the_deployment_checks_skip_without_the_deployment(check):
    params = VOLUME if check is config.configmap_volume else ENV
    result = check(from_api(CREDENTIALS, config_map("api-config", {})), params)
    assert (result.status, result.message) == ("skipped", "deployment api does not exist in namespace c1-ada")


def test_each_key_read_by_secret_key_ref_in_any_container_passes():
    app = api(container("api", env=[secret_ref("DB_PASSWORD")]), container("worker", env=[secret_ref("API_TOKEN")]))
    assert config.secret_env(from_api(app, CREDENTIALS), ENV).status == "passed"


def test_env_from_the_secret_reads_the_keys_the_secret_has():
    app = api(container("api", envFrom=[{"configMapRef": {"name": "api-config"}}, {"secretRef": {"name": "api-credentials"}}]))
    assert config.secret_env(from_api(app, CREDENTIALS), ENV).status == "passed"
    result = config.secret_env(from_api(app, secret("api-credentials", ["DB_PASSWORD"])), ENV)
    assert (result.status, result.message) == ("failed", "no container reads API_TOKEN from secret api-credentials")


def test_env_from_another_secret_reads_nothing_from_this_one():
    app = api(container("api", envFrom=[{"secretRef": {"name": "other"}}]))
    result = config.secret_env(from_api(app, CREDENTIALS, secret("other", ["DB_PASSWORD", "API_TOKEN"])), ENV)
    assert result.message == (
        "no container reads DB_PASSWORD from secret api-credentials; no container reads API_TOKEN from secret api-credentials"
    )


def test_each_key_not_read_from_the_secret_says_where_it_comes_from():
    app = api(
        container(
            "api",
            env=[
                {"name": "DB_PASSWORD", "value": PASSWORD},
                {"name": "API_TOKEN", "valueFrom": {"configMapKeyRef": {"name": "api-config", "key": "API_TOKEN"}}},
            ],
        )
    )
    result = config.secret_env(from_api(app, CREDENTIALS), ENV)
    assert (result.status, result.message) == (
        "failed",
        "DB_PASSWORD is a literal env value, not read from secret api-credentials; "
        "API_TOKEN is read from a configmap, not from secret api-credentials",
    )
    assert result.hint.startswith("env: [{name: KEY, valueFrom: {secretKeyRef: {name: api-credentials, key: KEY}}}]")


def test_a_secret_key_ref_to_another_secret_or_key_does_not_read_the_key():
    app = api(
        container(
            "api",
            env=[
                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "other", "key": "DB_PASSWORD"}}},
                {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api-credentials", "key": "DB_PASSWORD"}}},
            ],
        )
    )
    result = config.secret_env(from_api(app, CREDENTIALS), ENV)
    assert result.message == "no container reads API_TOKEN from secret api-credentials"
    only_other = api(container("api", env=[{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "other", "key": "DB_PASSWORD"}}}]))
    result = config.secret_env(from_api(only_other, CREDENTIALS), config.SecretEnvParams(**{**ENV.model_dump(), "keys": ["DB_PASSWORD"]}))
    assert result.message == "no container reads DB_PASSWORD from secret api-credentials"


def test_a_key_counts_whatever_variable_it_is_read_into_and_only_that_key():
    renamed = api(container("api", env=[{**secret_ref("DB_PASSWORD"), "name": "PGPASSWORD"}, secret_ref("API_TOKEN")]))
    assert config.secret_env(from_api(renamed, CREDENTIALS), ENV).status == "passed"
    token_twice = api(container("api", env=[{**secret_ref("API_TOKEN"), "name": "DB_PASSWORD"}, secret_ref("API_TOKEN")]))
    result = config.secret_env(from_api(token_twice, CREDENTIALS), ENV)
    assert result.message == "no container reads DB_PASSWORD from secret api-credentials"


def test_a_literal_or_configmap_value_of_another_name_is_not_the_keys_source():
    app = api(
        container(
            "api",
            env=[
                {"name": "APP_NAME", "value": "api"},
                {"name": "API_URL", "valueFrom": {"configMapKeyRef": {"name": "api-config", "key": "API_URL"}}},
                {"name": "DB_USER", "value": "api"},
                {"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {"name": "api-config", "key": "LOG_LEVEL"}}},
                {"name": "DB_PASSWORD"},
            ],
        )
    )
    result = config.secret_env(from_api(app, CREDENTIALS), config.SecretEnvParams(**{**ENV.model_dump(), "keys": ["DB_PASSWORD"]}))
    assert result.message == "no container reads DB_PASSWORD from secret api-credentials"


def test_reading_a_missing_secret_fails_as_pods_that_cannot_start():
    app = api(container("api", env=[secret_ref("DB_PASSWORD"), secret_ref("API_TOKEN")]))
    result = config.secret_env(from_api(app), ENV)
    assert (result.status, result.message) == (
        "failed",
        "secret api-credentials does not exist, so the pods of deployment api cannot start",
    )


# --- no credential in plain text ---------------------------------------------------------------


def plaintext(*objects: dict[str, Any]):
    return config.no_plaintext_secrets(from_api(*objects), NamespaceParams())


def test_settings_and_references_to_credentials_are_not_credentials():
    settings = config_map(
        "api-config",
        {
            "LOG_LEVEL": "info",
            "app.properties": "server.port=8080\ndb.user=api\ndb.password.file=/var/run/secrets/api/DB_PASSWORD\n"
            "password=\napi_key_path: /run/secrets/key\n",
            "TOKEN_PATH": "/var/run/secrets/token",
        },
    )
    app = api(container("api", env=[{"name": "LOG_LEVEL", "value": "info"}, secret_ref("DB_PASSWORD"), {"name": "API_TOKEN", "value": ""}]))
    assert plaintext(settings, app, CREDENTIALS).status == "passed"


def test_a_credential_key_is_named_once_and_lines_setting_one_by_number():
    settings = config_map(
        "api-config",
        {
            "DB_PASSWORD": PASSWORD,
            "app.properties": f"server.port=8080\n  export API_TOKEN={TOKEN}\ndb.user=api\nprivate-key: LS0tLS1CRUdJTi\n",
            "LOG_LEVEL": "info",
        },
    )
    result = plaintext(settings)
    assert (result.status, result.message) == (
        "failed",
        "configmap api-config key DB_PASSWORD looks like a credential; "
        "configmap api-config key app.properties line 2 sets API_TOKEN; "
        "configmap api-config key app.properties line 4 sets private-key",
    )
    assert PASSWORD not in result.message and TOKEN not in result.message


def test_a_credential_key_holding_credential_lines_is_named_once():
    result = plaintext(config_map("db", {"secrets.env": f"DB_PASSWORD={PASSWORD}\nAPI_TOKEN={TOKEN}\n"}))
    assert result.message == "configmap db key secrets.env looks like a credential"


def test_configmaps_are_reported_in_name_order():
    result = plaintext(config_map("web", {"API_TOKEN": TOKEN}), config_map("api", {"GITHUB_TOKEN": TOKEN}))
    assert result.message == (
        "configmap api key GITHUB_TOKEN looks like a credential; configmap web key API_TOKEN looks like a credential"
    )


def test_literal_credentials_in_every_container_the_student_wrote():
    literal = [{"name": "DB_PASSWORD", "value": PASSWORD}]
    app = api(container("api"), initContainers=[container("migrate", env=literal)])
    cron = cron_job("report", "0 * * * *", job_spec(container("report", env=literal)))
    spawned = job("report-29385930", job_spec(container("report", env=literal)), **owned_by("CronJob", "report"))
    bare_job = job("seed", job_spec(container("seed", env=literal)))
    debug = pod("debug", pod_spec(container("debug", env=[{"name": "API_TOKEN", "value": TOKEN}])))
    replica = pod("api-6b8f9c7d5-k4s2x", pod_spec(container("api", env=literal)), **owned_by("ReplicaSet", "api-6b8f9c7d5"))
    result = plaintext(app, cron, spawned, bare_job, debug, replica)
    assert (result.status, result.message) == (
        "failed",
        "deployment api container migrate sets DB_PASSWORD as a literal value; "
        "cronjob report container report sets DB_PASSWORD as a literal value; "
        "job seed container seed sets DB_PASSWORD as a literal value; "
        "pod debug container debug sets API_TOKEN as a literal value",
    )
    assert PASSWORD not in result.message and TOKEN not in result.message


def test_a_quoted_name_in_a_json_or_yaml_file_sets_a_credential_too():
    """A pasted config.json or a YAML file with quoted keys is as plain as a properties file."""
    document = json.dumps({"server": {"port": 8080}, "db": {"user": "api", "password": PASSWORD, "password_file": "/run/db"}}, indent=2)
    settings = config_map("api-config", {"config.json": document, "app.yaml": f"log: info\n'api-key': {TOKEN}\n"})
    result = plaintext(settings)
    assert (result.status, result.message) == (
        "failed",
        "configmap api-config key app.yaml line 2 sets api-key; configmap api-config key config.json line 7 sets password",
    )
    assert PASSWORD not in result.message and TOKEN not in result.message
