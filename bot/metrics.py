"""Prometheus metrics served at /metrics."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
SLACK_EVENTS = Counter(
    "asap_slack_events_total",
    "Events API deliveries by event type (retries of a handled event included).",
    ["type"],
    registry=REGISTRY,
)
JOBS_QUEUED = Counter(
    "asap_jobs_queued_total", "Jobs enqueued, by task.", ["task"], registry=REGISTRY
)
JOBS_RUNNING = Gauge(
    "asap_jobs_running", "Jobs running in this process, by task.", ["task"], registry=REGISTRY
)
JOB_SECONDS = Histogram(
    "asap_job_seconds",
    "Time a job ran, by task.",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 60.0),
    registry=REGISTRY,
)
JOB_WAIT_SECONDS = Histogram(
    "asap_job_wait_seconds",
    "Time a job waited in the queue before its first run, by task.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 3.0, 5.0, 10.0, 30.0, 120.0),
    registry=REGISTRY,
)
JOBS_FAILED = Counter(
    "asap_jobs_failed_total",
    "Jobs that gave up (no more retries), by task.",
    ["task"],
    registry=REGISTRY,
)
JOBS_RETRIED = Counter(
    "asap_jobs_retried_total",
    "Job runs that failed and will run again, by task.",
    ["task"],
    registry=REGISTRY,
)
JOB_QUEUE_DEPTH = Gauge(
    "asap_job_queue_depth",
    "Jobs waiting to run, by queue (read from the queue when /metrics is scraped).",
    ["queue"],
    registry=REGISTRY,
)
CRITIQUES = Counter(
    "asap_critiques_total",
    "Critiques computed (a stored one reused is not counted), by engine and what asked.",
    ["engine", "source"],
    registry=REGISTRY,
)
PRACTICE_SESSIONS = Counter(
    "asap_practice_sessions_total",
    "Practice sessions started, and finished by outcome (satisfied, gave_up, ended, timed_out).",
    ["outcome"],
    registry=REGISTRY,
)
PRACTICE_TURNS = Counter(
    "asap_practice_turns_total", "Agent replies played in practice sessions.", registry=REGISTRY
)
REMINDERS = Counter(
    "asap_reminders_total",
    "Daily reminders that fell due (planned), and how each ended: sent, skipped, failed.",
    ["outcome"],
    registry=REGISTRY,
)
LLM_CALLS = Counter(
    "asap_llm_calls_total",
    "LLM critiques and practice-customer turns asked for, by how they ended: ok, or why the "
    "offline engine answered instead (timeout, refusal, error, budget, rate_limited).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
LLM_SECONDS = Histogram(
    "asap_llm_seconds",
    "Time an LLM call took, retries included (its deadline cuts it).",
    ["kind"],
    buckets=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 12.0, 15.0, 20.0, 30.0),
    registry=REGISTRY,
)
LLM_TOKENS = Counter(
    "asap_llm_tokens_total",
    "Tokens the LLM engines spent, by kind and direction (input: the prompt, output: the answer).",
    ["kind", "direction"],
    registry=REGISTRY,
)
