"""The Helm chart in deploy/helm/asap-coach, rendered as `helm template` would by Helm's own Go
SDK (through helm-python-sdk from PyPI; the helm binary is in none of the registries here), and
every manifest validated against Kubernetes' OpenAPI schemas, strictly (kubernetes-validate
bundles them offline)."""

from __future__ import annotations

import json
import tomllib

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from bot.jobs.queue import LONGEST_CLOSE_SECONDS
from bot.settings import Settings
from tests.deploy.artefacts import CHART, ROOT, SECRET_SETTINGS, compose_file, image_user

# The oldest Kubernetes release still maintained upstream when this was written, and the newest
# the validator bundles.
KUBERNETES_VERSIONS = ("1.32.0", f"{kubernetes_validate.latest_version()}")
DATABASE_URL = "postgresql+psycopg://asap:secret@postgres.internal:5432/asap"
HTTP_MODE = {
    "secrets": {
        "DATABASE_URL": DATABASE_URL,
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "signing-secret",
        "ENCRYPTION_KEY": "",
    },
    "config": {"OPENAI_MODEL": "gpt-4.1", "PRACTICE_TURN_LIMIT": 10},
    "ingress": {"className": "nginx", "tlsSecretName": "asap-coach-tls"},
}
SOCKET_MODE = {
    "existingSecret": "asap-coach-credentials",
    "ingress": {"enabled": False},
    "worker": {"autoscaling": {"queueDepth": {"enabled": True}}},
}
MODES = {"http": HTTP_MODE, "socket": SOCKET_MODE}


def render(values: dict) -> list[dict]:
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(values)
        manifests = chart.render(values, name="prod", namespace="support")
    return [
        document
        for path, text in sorted(manifests.items())
        if path.endswith(".yaml")
        for document in yaml.safe_load_all(text)
        if document
    ]


def only(documents: list[dict], kind: str, name: str | None = None) -> dict:
    (document,) = (
        d for d in documents if d["kind"] == kind and name in (None, d["metadata"]["name"])
    )
    return document


def containers(document: dict) -> list[dict]:
    return document["spec"]["template"]["spec"]["containers"]


def test_the_chart_lints_clean() -> None:
    report = helm.lint(CHART, HTTP_MODE, strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("mode", MODES)
def test_every_manifest_is_valid_kubernetes(mode: str, version: str) -> None:
    documents = render(MODES[mode])
    assert documents
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)


def test_the_migration_job_runs_before_each_install_and_upgrade_after_its_settings() -> None:
    documents = render(HTTP_MODE)
    job = only(documents, "Job")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert containers(job)[0]["command"] == compose_file()["services"]["migrate"]["command"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # The Job reads the ConfigMap and the Secret, so they must exist before it: hooks too,
    # with a lower weight.
    for settings in (only(documents, "ConfigMap"), only(documents, "Secret")):
        assert settings["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
        weight = settings["metadata"]["annotations"]["helm.sh/hook-weight"]
        assert int(weight) < int(annotations["helm.sh/hook-weight"])
    for deployment in (d for d in documents if d["kind"] == "Deployment"):
        assert "helm.sh/hook" not in deployment["metadata"].get("annotations", {})


def test_web_runs_two_probed_replicas_kept_up_by_a_disruption_budget() -> None:
    documents = render(HTTP_MODE)
    web = only(documents, "Deployment", "prod-asap-coach-web")
    assert web["spec"]["replicas"] == 2
    (container,) = containers(web)
    assert container["command"] == compose_file()["services"]["web"]["command"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"requests", "limits"} <= set(container["resources"])
    budget = only(documents, "PodDisruptionBudget")
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"] == web["spec"]["selector"]["matchLabels"]


def test_a_stopping_worker_pod_gets_long_enough_for_its_running_jobs() -> None:
    worker = only(render(HTTP_MODE), "Deployment", "prod-asap-coach-worker")
    grace = worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > LONGEST_CLOSE_SECONDS


def test_slack_reaches_the_web_pods_through_ingress_and_service_in_http_mode() -> None:
    documents = render(HTTP_MODE)
    web = only(documents, "Deployment", "prod-asap-coach-web")
    service = only(documents, "Service")
    assert service["spec"]["selector"] == web["spec"]["template"]["metadata"]["labels"]
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] in {p["name"] for p in containers(web)[0]["ports"]}
    (rule,) = only(documents, "Ingress")["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["path"] == "/slack"  # /slack/events and the OAuth pages, not /metrics
    assert path["backend"]["service"] == {
        "name": service["metadata"]["name"],
        "port": {"name": port["name"]},
    }


def test_socket_mode_has_no_ingress_and_uses_the_named_secret() -> None:
    documents = render(SOCKET_MODE)
    assert not [d for d in documents if d["kind"] in {"Ingress", "Secret"}]
    for document in documents:
        if document["kind"] in {"Deployment", "Job"}:
            references = [source.get("secretRef") for source in containers(document)[0]["envFrom"]]
            assert {"name": "asap-coach-credentials"} in references


def test_workers_scale_on_cpu_and_optionally_on_the_queue_depth() -> None:
    documents = render(SOCKET_MODE)
    worker = only(documents, "Deployment", "prod-asap-coach-worker")
    assert containers(worker)[0]["command"] == compose_file()["services"]["worker"]["command"]
    assert "replicas" not in worker["spec"]  # the autoscaler owns it
    autoscaler = only(documents, "HorizontalPodAutoscaler")
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == worker["metadata"]["name"]
    metrics = {metric["type"]: metric for metric in autoscaler["spec"]["metrics"]}
    assert metrics["Resource"]["resource"]["name"] == "cpu"
    assert metrics["External"]["external"]["metric"]["name"] == "asap_job_queue_depth"
    cpu_only = only(render(HTTP_MODE), "HorizontalPodAutoscaler")
    assert [metric["type"] for metric in cpu_only["spec"]["metrics"]] == ["Resource"]


def test_secrets_go_in_the_secret_and_everything_else_in_the_config_map() -> None:
    documents = render(HTTP_MODE)
    secret = only(documents, "Secret")["stringData"]
    config = only(documents, "ConfigMap")["data"]
    settings = {name.upper() for name in Settings.model_fields}
    assert set(secret) <= SECRET_SETTINGS and set(secret) <= settings
    assert "ENCRYPTION_KEY" not in secret  # empty values are left out, not set to ""
    assert not set(config) & SECRET_SETTINGS and set(config) <= settings
    assert all(isinstance(value, str) for value in config.values())


def test_the_chart_knows_the_same_secrets_as_the_deployment_docs() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert set(schema["definitions"]["secretName"]["enum"]) == SECRET_SETTINGS
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    assert set(defaults["secrets"]) == SECRET_SETTINGS


def test_a_secret_put_in_the_config_map_is_refused() -> None:
    with (
        helm.Chart.load(CHART) as chart,
        pytest.raises(helm.HelmValuesError, match="SLACK_BOT_TOKEN"),
    ):
        chart.validate_schema({**HTTP_MODE, "config": {"SLACK_BOT_TOKEN": "xoxb-1"}})


@pytest.mark.parametrize(
    ("database_url", "message"),
    [("", "secrets.DATABASE_URL is required"), ("sqlite:///x.db", "must be a PostgreSQL URL")],
)
def test_a_missing_or_sqlite_database_url_stops_the_render(database_url, message) -> None:
    values = {**HTTP_MODE, "secrets": {**HTTP_MODE["secrets"], "DATABASE_URL": database_url}}
    with pytest.raises(helm.HelmRenderError, match=message):
        render(values)


def test_every_pod_runs_as_the_images_unprivileged_user() -> None:
    uid = int(image_user().split(":")[0])
    for document in render(HTTP_MODE):
        if document["kind"] in {"Deployment", "Job"}:
            pod = document["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True
            assert pod["securityContext"]["runAsUser"] == uid
            assert pod["automountServiceAccountToken"] is False
            for container in pod["containers"]:
                assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_the_app_version_is_the_packages_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert chart["appVersion"] == project["version"]
