"""The bot's Prometheus metrics as issue 12 names them: what deploy/grafana-dashboard.json and
deploy/alerts.yml may query. tests/deploy/test_observability.py checks the two files against
this list, and this list against the metrics bot/metrics.py already defines; once bot/metrics.py
defines them all, the test can read them from there instead."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, NamedTuple

LLM_KINDS = frozenset({"critique", "persona"})
NO_VALUES: Mapping[str, frozenset[str]] = MappingProxyType({})


class Metric(NamedTuple):
    type: Literal["counter", "gauge", "histogram"]
    labels: tuple[str, ...] = ()
    # The values a label takes, where the issue fixes them: a query matching another value
    # would never match anything.
    values: Mapping[str, frozenset[str]] = NO_VALUES


METRICS: dict[str, Metric] = {
    "asap_slack_requests_total": Metric("counter", ("status",)),
    "asap_slack_ack_seconds": Metric("histogram"),
    "asap_duplicate_deliveries_total": Metric("counter"),
    "asap_slack_events_total": Metric("counter", ("type",)),
    "asap_jobs_queued_total": Metric("counter", ("task",)),
    "asap_jobs_running": Metric("gauge", ("task",)),
    "asap_job_seconds": Metric("histogram", ("task",)),
    "asap_job_wait_seconds": Metric("histogram", ("task",)),
    "asap_jobs_failed_total": Metric("counter", ("task",)),
    "asap_jobs_retried_total": Metric("counter", ("task",)),
    "asap_job_queue_depth": Metric("gauge", ("queue",)),
    "asap_llm_calls_total": Metric(
        "counter",
        ("kind", "outcome"),
        {
            "kind": LLM_KINDS,
            "outcome": frozenset({"ok", "timeout", "refusal", "error", "budget", "rate_limited"}),
        },
    ),
    "asap_llm_seconds": Metric("histogram", ("kind",), {"kind": LLM_KINDS}),
    "asap_llm_tokens_total": Metric(
        "counter",
        ("kind", "direction"),
        {"kind": LLM_KINDS, "direction": frozenset({"input", "output"})},
    ),
    "asap_critiques_total": Metric("counter", ("engine", "source")),
    "asap_practice_sessions_total": Metric("counter", ("outcome",)),
    "asap_practice_turns_total": Metric("counter"),
    "asap_reminders_total": Metric(
        "counter", ("outcome",), {"outcome": frozenset({"planned", "sent", "skipped", "failed"})}
    ),
}

# Series from outside the bot that the alert rules use: Prometheus' own scrape health, and
# kube-state-metrics' view of the Deployments' readiness (Kubernetes only).
EXTERNAL_METRICS: dict[str, Metric] = {
    "up": Metric("gauge"),
    "kube_deployment_status_replicas_ready": Metric("gauge", ("deployment",)),
    "kube_deployment_spec_replicas": Metric("gauge", ("deployment",)),
}

# Labels Prometheus adds to every scraped series.
TARGET_LABELS = frozenset({"job", "instance", "namespace", "pod"})
