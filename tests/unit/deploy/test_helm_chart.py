"""deploy/helm/tocsin: the chart renders for the value sets people use, every manifest is valid
Kubernetes, it matches the image and compose.yaml, and bad values stop it with the reason.

helm cannot be installed here (neither Debian nor PyPI ships it), so the chart is rendered by
deploy/helm/render, a Go stand-in for `helm template` built from Debian's Go and sprig (see its
header for what it covers); the build is cached by the hash of its source.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from config.settings import Settings
from tests.unit.deploy.helm_values import (
    CHART,
    DOCS,
    END,
    MANAGED,
    ROOT,
    START,
    load,
    schema_with_settings,
    values_table,
)

RENDERER = ROOT / "deploy" / "helm" / "render"
GOCODE = Path("/usr/share/gocode/src/github.com")
GO_LIBRARIES = {
    "golang-github-masterminds-sprig-dev": GOCODE / "Masterminds" / "sprig",
    "golang-github-ghodss-yaml-dev": GOCODE / "ghodss" / "yaml",
    "golang-github-xeipuuv-gojsonschema-dev": GOCODE / "xeipuuv" / "gojsonschema",
}
KUBE_VERSION = "1.33.0"
POSTGRES = {"url": "postgresql://tocsin:secret@postgres:5432/tocsin"}
SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret"}
Render = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def renderer() -> Path:
    if shutil.which("go") is None:
        pytest.skip("Go not found (Debian's golang-go; .ci/run installs it)")
    missing = [package for package, path in GO_LIBRARIES.items() if not path.is_dir()]
    if missing:
        names = ", ".join(missing)
        pytest.skip(f"Go libraries not found: Debian's {names} (.ci/run installs them)")
    digest = hashlib.sha256()
    for source in sorted(RENDERER.iterdir()):
        digest.update(source.name.encode() + source.read_bytes())
    binary = Path(tempfile.gettempdir()) / f"tocsin-helm-render-{digest.hexdigest()[:16]}"
    if not binary.exists():
        partial = binary.with_name(f"{binary.name}.{os.getpid()}")
        build = subprocess.run(
            [str(RENDERER / "build.sh"), str(partial)], capture_output=True, text=True, timeout=300
        )
        assert build.returncode == 0, build.stdout + build.stderr
        partial.replace(binary)  # atomic: parallel test workers may build it at once
    return binary


@pytest.fixture
def render(renderer: Path, tmp_path: Path) -> Render:
    def run(values: dict[str, Any] | None = None, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(renderer), "-chart", str(CHART), "-name", "tocsin", "-namespace", "ops"]
        command += ["-kube-version", KUBE_VERSION, *args]
        if values is not None:
            file = tmp_path / f"values-{len(list(tmp_path.iterdir()))}.yaml"
            file.write_text(yaml.safe_dump(values), encoding="utf-8")
            command += ["-f", str(file)]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    return run


def manifests(render: Render, values: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    result = render(values)
    assert result.returncode == 0, result.stderr
    documents = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    by_kind = {doc["kind"]: doc for doc in documents}
    assert len(by_kind) == len(documents), "one manifest of each kind"
    return by_kind


def pod(by_kind: dict[str, dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = by_kind["Deployment"]["spec"]["template"]["spec"]
    return spec


def container_env(container: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container["env"]}


VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "three replicas on PostgreSQL": {"replicaCount": 3, "database": POSTGRES, "secrets": SLACK},
    "ingress with TLS": {
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "hosts": [
                {"host": "tocsin.example.com", "paths": [{"path": "/", "pathType": "Prefix"}]}
            ],
            "tls": [{"secretName": "tocsin-tls", "hosts": ["tocsin.example.com"]}],
        }
    },
    "existing secrets": {
        "replicaCount": 2,
        "existingSecret": "tocsin-credentials",
        "database": {"existingSecret": "tocsin-database"},
    },
    "service monitor": {
        "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
        "secrets": {"TOCSIN_METRICS_TOKEN": "m3trics"},
    },
    "sqlite on a volume with a policy file": {
        "persistence": {"enabled": True, "storageClass": "fast"},
        "policy": {"content": "integrations: []\n"},
        "migrations": {"initContainer": False},
    },
}


@pytest.mark.parametrize("name", VALUE_SETS)
def test_every_rendered_manifest_is_valid_kubernetes(render: Render, name: str) -> None:
    for kind, manifest in manifests(render, VALUE_SETS[name]).items():
        if kind == "ServiceMonitor":
            continue  # a CRD: not in Kubernetes' schemas (its shape is checked below)
        try:
            kubernetes_validate.validate(manifest, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            pytest.fail(f"{name}: {kind} at {path}: {error.message}")


def test_the_defaults_run_one_sandboxed_pod_on_sqlite_as_the_image_does(render: Render) -> None:
    by_kind = manifests(render)
    assert sorted(by_kind) == [
        "Deployment",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
    ]
    deployment = by_kind["Deployment"]["spec"]
    assert deployment["replicas"] == 1
    assert deployment["strategy"]["type"] == "Recreate"
    spec = pod(by_kind)
    (tocsin,) = spec["containers"]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert f"USER {spec['securityContext']['runAsUser']}:" in dockerfile
    assert f"EXPOSE {tocsin['ports'][0]['containerPort']}" in dockerfile
    assert tocsin["command"] == json.loads(re.findall(r"^CMD (.*)$", dockerfile, re.M)[0])
    assert container_env(tocsin)["TOCSIN_PORT"] == str(tocsin["ports"][0]["containerPort"])
    assert tocsin["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {mount["mountPath"]: mount["name"] for mount in tocsin["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    assert volumes[mounts["/tmp"]]["emptyDir"] == {}
    assert volumes[mounts["/data"]]["emptyDir"] == {}
    assert "TOCSIN_CONFIG" not in container_env(tocsin)  # the image's example policy


def test_the_probes_ask_the_services_health_routes(render: Render) -> None:
    (tocsin,) = pod(manifests(render))["containers"]
    app = (ROOT / "bot" / "app.py").read_text(encoding="utf-8")
    paths = {
        probe: tocsin[probe]["httpGet"]["path"]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert paths == {
        "startupProbe": "/healthz",
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }
    for path in paths.values():
        assert f'"{path}"' in app, f"bot/app.py serves no {path}"
    assert all(tocsin[probe]["httpGet"]["port"] == "http" for probe in paths)


def test_migrations_run_once_before_the_service_as_compose_runs_them(render: Render) -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    spec = pod(manifests(render))
    (migrate,) = spec["initContainers"]
    assert migrate["command"] == compose["services"]["migrate"]["command"]
    assert migrate["image"] == spec["containers"][0]["image"]
    compose_value = compose["x-tocsin"]["environment"]["TOCSIN_MIGRATE_ON_START"]
    for container in (migrate, spec["containers"][0]):
        assert container_env(container)["TOCSIN_MIGRATE_ON_START"] == compose_value == "false"
    on_start = pod(manifests(render, {"migrations": {"initContainer": False}}))
    assert "initContainers" not in on_start
    assert container_env(on_start["containers"][0])["TOCSIN_MIGRATE_ON_START"] == "true"


def test_postgresql_replicas_roll_and_read_the_url_from_the_charts_secret(render: Render) -> None:
    by_kind = manifests(render, VALUE_SETS["three replicas on PostgreSQL"])
    assert by_kind["Deployment"]["spec"]["replicas"] == 3
    assert by_kind["Deployment"]["spec"]["strategy"]["type"] == "RollingUpdate"
    secret = by_kind["Secret"]
    assert secret["stringData"] == {"TOCSIN_DATABASE_URL": POSTGRES["url"], **SLACK}
    (tocsin,) = pod(by_kind)["containers"]
    assert tocsin["envFrom"] == [{"secretRef": {"name": secret["metadata"]["name"]}}]
    assert "TOCSIN_DATABASE_URL" not in container_env(tocsin)  # only in the Secret


def test_a_changed_credential_rolls_the_pods(render: Render) -> None:
    def checksum(token: str) -> str:
        values = {"secrets": {**SLACK, "SLACK_BOT_TOKEN": token}}
        annotations = manifests(render, values)["Deployment"]["spec"]["template"]["metadata"]
        return str(annotations["annotations"]["checksum/secret"])

    assert checksum("xoxb-1") == checksum("xoxb-1")
    assert checksum("xoxb-1") != checksum("xoxb-2")


def test_existing_secrets_are_read_and_no_secret_is_made(render: Render) -> None:
    by_kind = manifests(render, VALUE_SETS["existing secrets"])
    assert "Secret" not in by_kind
    (tocsin,) = pod(by_kind)["containers"]
    assert tocsin["envFrom"] == [{"secretRef": {"name": "tocsin-credentials"}}]
    assert container_env(tocsin)["TOCSIN_DATABASE_URL"] == {
        "secretKeyRef": {"name": "tocsin-database", "key": "TOCSIN_DATABASE_URL"}
    }


def test_the_ingress_routes_its_host_to_the_service_and_sets_the_public_url(
    render: Render,
) -> None:
    by_kind = manifests(render, VALUE_SETS["ingress with TLS"])
    rule = by_kind["Ingress"]["spec"]["rules"][0]
    assert rule["host"] == "tocsin.example.com"
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": by_kind["Service"]["metadata"]["name"], "port": {"name": "http"}}
    (tocsin,) = pod(by_kind)["containers"]
    assert container_env(tocsin)["TOCSIN_PUBLIC_URL"] == "https://tocsin.example.com"
    mine = {**VALUE_SETS["ingress with TLS"], "env": {"TOCSIN_PUBLIC_URL": "https://x.example"}}
    (tocsin,) = pod(manifests(render, mine))["containers"]
    assert container_env(tocsin)["TOCSIN_PUBLIC_URL"] == "https://x.example"


def test_the_service_monitor_scrapes_metrics_with_the_token(render: Render) -> None:
    by_kind = manifests(render, VALUE_SETS["service monitor"])
    monitor = by_kind["ServiceMonitor"]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["selector"]["matchLabels"] == by_kind["Service"]["spec"]["selector"]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == by_kind["Service"]["spec"]["ports"][0]["name"]
    assert endpoint["path"] == "/metrics"
    credentials = endpoint["authorization"]["credentials"]
    assert credentials == {
        "name": by_kind["Secret"]["metadata"]["name"],
        "key": "TOCSIN_METRICS_TOKEN",
    }
    assert by_kind["Secret"]["stringData"]["TOCSIN_METRICS_TOKEN"] == "m3trics"
    open_metrics = manifests(render, {"serviceMonitor": {"enabled": True}})["ServiceMonitor"]
    assert "authorization" not in open_metrics["spec"]["endpoints"][0]


def test_sqlite_on_a_volume_keeps_data_and_mounts_the_policy_file(render: Render) -> None:
    by_kind = manifests(render, VALUE_SETS["sqlite on a volume with a policy file"])
    claim = by_kind["PersistentVolumeClaim"]
    assert claim["spec"]["storageClassName"] == "fast"
    assert by_kind["ConfigMap"]["data"] == {"policy.yaml": "integrations: []\n"}
    spec = pod(by_kind)
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    (tocsin,) = spec["containers"]
    mounts = {mount["mountPath"]: mount["name"] for mount in tocsin["volumeMounts"]}
    claim_name = volumes[mounts["/data"]]["persistentVolumeClaim"]["claimName"]
    assert claim_name == claim["metadata"]["name"]
    policy = volumes[mounts["/config"]]["configMap"]["name"]
    assert policy == by_kind["ConfigMap"]["metadata"]["name"]
    assert container_env(tocsin)["TOCSIN_CONFIG"] == "/config/policy.yaml"


def test_settings_reach_the_pod_as_the_strings_tocsin_parses(render: Render) -> None:
    env: dict[str, Any] = {"TOCSIN_MAX_BODY_BYTES": 2097152, "TOCSIN_ACCESS_LOG": False}
    env |= {"TOCSIN_SLACK_CHANNEL_RATE": 0.5, "TOCSIN_LOG_LEVEL": "", "SLACK_TEAM_ID": "T1"}
    (tocsin,) = pod(manifests(render, {"env": env}))["containers"]
    given = container_env(tocsin)
    assert given["TOCSIN_MAX_BODY_BYTES"] == "2097152"  # not 2.097152e+06
    assert given["TOCSIN_ACCESS_LOG"] == "false"
    assert given["TOCSIN_SLACK_CHANNEL_RATE"] == "0.5"
    assert given["SLACK_TEAM_ID"] == "T1"
    assert "TOCSIN_LOG_LEVEL" not in given  # empty: Tocsin's default
    parsed = Settings.model_validate({k: v for k, v in given.items() if k.startswith("TOCSIN_")})
    assert parsed.max_body_bytes == 2097152
    assert parsed.slack_channel_rate == 0.5


BAD_VALUES: dict[str, tuple[dict[str, Any], str]] = {
    "replicas on sqlite": (
        {"replicaCount": 3, "secrets": SLACK},
        "replicaCount is 3: more than one replica needs PostgreSQL",
    ),
    "replicas in the sandbox": (
        {"replicaCount": 2, "database": POSTGRES},
        "replicaCount is 2: more than one replica needs Slack credentials",
    ),
    "a bot token alone": (
        {"secrets": {"SLACK_BOT_TOKEN": "xoxb-1"}},
        "secrets.SLACK_BOT_TOKEN needs secrets.SLACK_SIGNING_SECRET",
    ),
    "two policy files": (
        {"policy": {"content": "x: 1", "existingConfigMap": "mine"}},
        "policy.content and policy.existingConfigMap are both set",
    ),
    "a word for a number": ({"replicaCount": "three"}, "replicaCount: Invalid type"),
    "an unknown setting": (
        {"env": {"TOCSIN_NO_SUCH": "1"}},
        "Additional property TOCSIN_NO_SUCH is not allowed",
    ),
    "a setting out of range": (
        {"env": {"TOCSIN_SLACK_CHANNEL_BURST": 0}},
        "env.TOCSIN_SLACK_CHANNEL_BURST: Must be greater than or equal to 1",
    ),
    "another database": (
        {"database": {"url": "mysql://db/tocsin"}},
        "database.url: Does not match",
    ),
}


@pytest.mark.parametrize("case", BAD_VALUES)
def test_bad_values_stop_rendering_with_the_reason(render: Render, case: str) -> None:
    values, message = BAD_VALUES[case]
    result = render(values)
    assert result.returncode != 0
    assert result.stdout == ""
    assert message in result.stderr, result.stderr


def test_the_notes_say_what_the_install_still_needs(render: Render) -> None:
    sandbox = render({}, "-notes")
    assert sandbox.returncode == 0, sandbox.stderr
    assert "local Slack sandbox" in sandbox.stdout
    assert "lost with\nthe pod" in sandbox.stdout
    real = render(VALUE_SETS["three replicas on PostgreSQL"], "-notes")
    assert real.returncode == 0, real.stderr
    assert "sandbox" not in real.stdout
    assert "SQLite" not in real.stdout
    assert "turn on\ningress.enabled" in real.stdout


def test_chart_yaml_has_what_helm_lint_asks_and_tocsins_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == CHART.name
    assert chart["type"] == "application"
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{chart["appVersion"]}"' in pyproject
    assert (CHART / "templates" / "NOTES.txt").is_file()


def test_values_yaml_meets_its_schema_and_the_schema_is_valid() -> None:
    schema, defaults = load()
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(defaults)
    with pytest.raises(jsonschema.ValidationError, match="is not of type 'integer'"):
        jsonschema.Draft7Validator(schema).validate({**defaults, "replicaCount": "x"})


def test_the_schema_passes_every_setting_and_the_docs_table_is_generated() -> None:
    schema, defaults = load()
    regenerate = "run .venv/bin/python -m tests.unit.deploy.helm_values"
    assert schema == schema_with_settings(schema), regenerate
    passed = set(schema["properties"]["env"]["properties"])
    passed |= set(schema["properties"]["secrets"]["properties"]) | set(MANAGED)
    assert passed == {str(info.alias) for info in Settings.model_fields.values()}
    assert set(schema["properties"]["secrets"]["properties"]) == set(defaults["secrets"])
    docs = DOCS.read_text(encoding="utf-8")
    table = docs[docs.index(START) + len(START) : docs.index(END)]
    assert table == values_table(schema, defaults), regenerate


SCRATCH_TEMPLATE = """\
{{- define "scratch.greeting" }}hello {{ .name }}{{ end -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
  namespace: {{ .Release.Namespace }}
data:
  include: {{ include "scratch.greeting" .Values | quote }}
  tpl: {{ tpl .Values.pattern . | quote }}
  yaml: {{ .Values.nested | toYaml | quote }}
  fromYaml: {{ (fromYaml "a: 1").a | quote }}
  json: {{ .Values.nested | toJson | quote }}
  lookup: {{ lookup "v1" "Secret" "ns" "x" | len | quote }}
  has: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}
  kube: {{ .Capabilities.KubeVersion.Minor | quote }}
  file: {{ .Files.Get "files/motd.txt" | trim | quote }}
  missing: "{{ .Values.nothing.here }}"
  dropped: {{ hasKey .Values "dropMe" | quote }}
  template: {{ .Template.Name | quote }}
"""


def test_the_renderer_behaves_as_helms_engine_on_a_scratch_chart(
    renderer: Path, tmp_path: Path
) -> None:
    chart = tmp_path / "scratch"
    (chart / "templates").mkdir(parents=True)
    (chart / "files").mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: scratch\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text(
        "name: world\npattern: '{{ .Release.Name }}!'\nnested: {b: 2, a: [1]}\ndropMe: 1\n"
    )
    (chart / "files" / "motd.txt").write_text("from a file\n")
    (chart / "templates" / "cm.yaml").write_text(SCRATCH_TEMPLATE)
    user = tmp_path / "user.yaml"
    user.write_text("dropMe: null\nnothing: {}\n")
    command = [str(renderer), "-chart", str(chart), "-name", "r", "-namespace", "n"]
    command += ["-f", str(user), "-kube-version", "1.30.2"]
    command += ["-api-versions", "monitoring.coreos.com/v1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("---\n# Source: scratch/templates/cm.yaml\n")
    config_map = yaml.safe_load(result.stdout)
    assert config_map["metadata"] == {"name": "r-scratch", "namespace": "n"}
    assert config_map["data"] == {
        "include": "hello world",
        "tpl": "r!",
        "yaml": "a:\n- 1\nb: 2",
        "fromYaml": "1",
        "json": '{"a":[1],"b":2}',
        "lookup": "0",
        "has": "true",
        "kube": "30",
        "file": "from a file",
        "missing": "",
        "dropped": "false",
        "template": "scratch/templates/cm.yaml",
    }
