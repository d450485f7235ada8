"""Prometheus metrics served at /metrics."""

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

SLACK_REQUESTS = Counter(
    "asap_slack_requests_total",
    "Requests from Slack (events, commands, interactions) by HTTP status answered.",
    ["status"],
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "asap_slack_ack_seconds",
    "Time from receiving a Slack request to answering it (Slack's deadline is 3 s).",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
    registry=REGISTRY,
)
DUPLICATE_DELIVERIES = Counter(
    "asap_duplicate_deliveries_total",
    "Event deliveries dropped because the event id was already handled (Slack retries).",
    registry=REGISTRY,
)
