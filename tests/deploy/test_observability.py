"""deploy/grafana-dashboard.json and deploy/alerts.yml: they parse, every PromQL query parses
(promql-parser, a PromQL grammar from PyPI; there is no promtool here), and they name only the
bot's metrics (tests/deploy/planned_metrics.py), with their labels and label values."""

from __future__ import annotations

import json
import re

import promql_parser
import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

import bot.metrics
from tests.deploy.artefacts import ALERTS, DASHBOARD
from tests.deploy.planned_metrics import EXTERNAL_METRICS, METRICS, TARGET_LABELS, Metric

HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")
# What Grafana puts in place of its variables before the query reaches Prometheus.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__range": "1h", "$job": ".*"}
RULE_KEYS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
SEVERITIES = {"critical", "warning", "info"}


def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def _dashboard_queries() -> list[str]:
    queries = [
        target["expr"] for panel in _dashboard()["panels"] for target in panel.get("targets", [])
    ]
    for variable, value in GRAFANA_VARIABLES.items():
        queries = [query.replace(variable, value) for query in queries]
    return queries


def _rules() -> list[dict]:
    return [
        rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]
    ]


def _series_metric(series: str) -> tuple[str, Metric] | None:
    """The metric a series name belongs to (a histogram has three series), or None."""
    known = {**METRICS, **EXTERNAL_METRICS}
    if series in known and known[series].type != "histogram":
        return series, known[series]
    for suffix in HISTOGRAM_SERIES:
        name = series.removesuffix(suffix)
        if name != series and known.get(name, Metric("counter")).type == "histogram":
            return name, known[name]
    return None


def _nodes(expression, kind: type) -> list:
    found: list = []
    promql_parser.walk(
        expression, lambda node: found.append(node) if isinstance(node, kind) else None
    )
    return found


def _labels(selector: promql_parser.VectorSelector) -> set[str]:
    """The labels a known series carries: its metric's, Prometheus' and a bucket's `le`."""
    _, metric = _series_metric(selector.name)
    return {*metric.labels, *TARGET_LABELS, *(["le"] if selector.name.endswith("_bucket") else [])}


def _problems(query: str) -> list[str]:
    """Unknown series, labels the series do not have, values a label never takes."""
    expression = promql_parser.parse(query)
    problems: list[str] = []
    for selector in _nodes(expression, promql_parser.VectorSelector):
        if _series_metric(selector.name) is None:
            problems.append(f"unknown series {selector.name}")
            continue
        name, metric = _series_metric(selector.name)
        for matcher in selector.matchers.matchers:
            if matcher.name not in _labels(selector):
                problems.append(f"{selector.name} has no label {matcher.name}")
            values = metric.values.get(matcher.name)
            exact = matcher.op in (promql_parser.MatchOp.Equal, promql_parser.MatchOp.NotEqual)
            if values is not None and exact and matcher.value not in values:
                problems.append(f"{name}'s {matcher.name} is never {matcher.value!r}")
    for aggregation in _nodes(expression, promql_parser.AggregateExpr):
        if aggregation.modifier is None:
            continue
        inside = [
            selector
            for selector in _nodes(aggregation.expr, promql_parser.VectorSelector)
            if _series_metric(selector.name)
        ]
        available = set().union(TARGET_LABELS, *(_labels(selector) for selector in inside))
        problems += [
            f"grouping by {label}, which no series has"
            for label in set(aggregation.modifier.labels) - available
        ]
    return problems


def _metrics_named(queries: list[str]) -> set[str]:
    return {
        _series_metric(selector.name)[0]
        for query in queries
        for selector in _nodes(promql_parser.parse(query), promql_parser.VectorSelector)
        if _series_metric(selector.name)
    }


def test_every_dashboard_query_parses_and_names_only_the_bots_metrics() -> None:
    queries = _dashboard_queries()
    assert queries
    assert {query: _problems(query) for query in queries if _problems(query)} == {}
    assert _metrics_named(queries) <= set(METRICS)


def test_the_dashboard_shows_every_metric_of_the_bot() -> None:
    assert set(METRICS) - _metrics_named(_dashboard_queries()) == set()


def test_the_dashboard_panels_are_laid_out_and_read_the_chosen_data_source() -> None:
    dashboard = _dashboard()
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert {"datasource", "job"} <= variables
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"] and panel["title"] and panel["description"]
            ref_ids = [target["refId"] for target in panel["targets"]]
            assert len(set(ref_ids)) == len(ref_ids)


def test_every_alert_rule_is_well_formed() -> None:
    rules = _rules()
    assert len({rule["alert"] for rule in rules}) == len(rules)
    for rule in rules:
        assert set(rule) <= RULE_KEYS, rule["alert"]
        assert rule["labels"]["severity"] in SEVERITIES
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        if "for" in rule:
            promql_parser.parse_duration(rule["for"])
        assert re.fullmatch(r"AsapCoach[A-Za-z]+", rule["alert"])


def test_every_alert_query_parses_and_names_only_known_series() -> None:
    problems = {rule["alert"]: _problems(rule["expr"]) for rule in _rules()}
    assert {alert: found for alert, found in problems.items() if found} == {}


@pytest.mark.parametrize(
    ("alert", "series"),
    [
        ("AsapCoachSlackAckSlow", "asap_slack_ack_seconds"),
        ("AsapCoachSlackAckOverDeadline", "asap_slack_ack_seconds"),
        ("AsapCoachJobsFailing", "asap_jobs_failed_total"),
        ("AsapCoachQueueGrowing", "asap_job_queue_depth"),
        ("AsapCoachJobsWaitingLong", "asap_job_wait_seconds"),
        ("AsapCoachQueueStalled", "asap_job_queue_depth"),
        ("AsapCoachLlmFallingBack", "asap_llm_calls_total"),
        ("AsapCoachRemindersFailed", "asap_reminders_total"),
        ("AsapCoachNotReady", "kube_deployment_status_replicas_ready"),
    ],
)
def test_the_alerts_the_issue_asks_for_exist(alert: str, series: str) -> None:
    (rule,) = (rule for rule in _rules() if rule["alert"] == alert)
    assert series in _metrics_named([rule["expr"]])


def test_the_ack_deadline_alert_reads_a_bucket_the_histogram_has() -> None:
    (rule,) = (rule for rule in _rules() if rule["alert"] == "AsapCoachSlackAckOverDeadline")
    assert 3.0 in bot.metrics.ACK_SECONDS._upper_bounds  # prometheus_client's bucket bounds
    assert 'le="3.0"' in rule["expr"]


def _defined_metrics() -> dict[str, MetricWrapperBase]:
    # prometheus_client keeps a metric's name (without a counter's _total), type and label
    # names in these attributes; it has no public accessor for the label names.
    return {
        value._name + ("_total" if value._type == "counter" else ""): value
        for value in vars(bot.metrics).values()
        if isinstance(value, MetricWrapperBase)
    }


def test_the_metrics_bot_metrics_defines_are_the_planned_ones_with_their_labels() -> None:
    defined = _defined_metrics()
    assert defined  # the existing Slack metrics at least
    for name, metric in defined.items():
        assert name in METRICS, f"{name} is not in tests/deploy/planned_metrics.py"
        assert (metric._type, tuple(metric._labelnames)) == METRICS[name][:2], name
