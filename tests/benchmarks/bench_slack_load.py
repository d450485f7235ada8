"""Acks and answers under a slow LLM: a bot process driven over Slack's wire format at a fixed rate.

    .venv/bin/python tests/benchmarks/bench_slack_load.py --rate 10 --seconds 20 \\
        --out /tmp/ours-10.json
    .venv/bin/python tests/benchmarks/bench_slack_load.py --bot peer \\
        --peer /work/peer/ChatGPT-in-Slack --peer-python /work/peer/venv/bin/python \\
        --rate 10 --seconds 20 --out /tmp/peer-10.json
    .venv/bin/python tests/benchmarks/bench_slack_load.py --retries-only --out /tmp/dup.json
    # web and workers apart, on PostgreSQL: `run --no-worker` plus 2 `asap-coach worker`
    .venv/bin/python tests/benchmarks/bench_slack_load.py --db postgresql --workers 2 \\
        --rate 10 --seconds 10 --out /tmp/ours-2-workers.json

The harness hosts the fake Slack (bot/fakes/slack) and the OpenAI stub (bot/fakes/openai_stub.py,
answering every call after 2-8 s) and starts the bot as its own process: `asap-coach run` (SQLite
or PostgreSQL at 127.0.0.1:5432) or the peer through tests/benchmarks/peer_launcher.py. Ours gets
`/practice check` commands, reactions on a watched channel's replies and replies in practice
threads, in turn; the peer gets mentions and DMs, in turn. An event not acked within 3 s is
delivered again with X-Slack-Retry-Num/-Reason after --retry-delays (Slack: 0, 60, 300 s).

Measured: start-up to first ack, idle RSS; ack p50/p99/max and share within 3 s; answers posted,
answer latency p50/p99, drain time (last send to last answer), duplicates, lost answers; peak RSS
(VmHWM) and most threads of the bot process. `--retries-only`: one event delivered 4 times
(retries 1-3) per surface, answers and duplicates counted. JSON to --out, a table on stdout.
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.fakes.openai_stub import OpenAIStub, StubReply
from bot.fakes.slack import Change, Delivery, FakeSlack, Message, RequestUrlError

REPO = Path(__file__).resolve().parents[2]
SIGNING_SECRET = "bench-signing-secret"
ACK_DEADLINE = 3.0
POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SCENARIO = "laptop-dead-on-arrival furious"
CUSTOMER_TEXT = "My order arrived broken and nobody answers my emails. I want a refund now!"
AGENT_REPLY = (
    "I'm so sorry your order arrived broken, that's really frustrating after waiting. "
    "That's on us. I've issued a replacement today and I'll email you the tracking by 5pm."
)
PRACTICE_REPLY = "I'm really sorry about this. I'll send a replacement today and update you."
# The peer's placeholder and streaming suffix (app/slack_constants.py): not yet an answer.
PEER_UNFINISHED = (":hourglass_flowing_sand:", ":writing_hand:")
SLACK_COMMAND_ERROR = "failed with the error"
# Ours labels a critique the offline engine gave because every LLM slot was taken.
BUSY_LABEL = "the LLM engine is busy"
# What a practice reply gets once its customer was satisfied (or gave up) and the session ended.
ENDED_LABEL = "This practice session has ended"


# ------------------------------------------------------------------------------ the bot process


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (peak RSS) in kB and Threads of a process, from /proc."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM", "Threads"):
                values[name] = int(rest.split()[0])
    except OSError:
        pass
    return values


def proc_cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used: unlike wall time, hardly moved by other
    processes on a loaded machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def create_postgres_database() -> str:
    from sqlalchemy import create_engine, text

    name = f"bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[1]
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@dataclass
class BotProcess:
    """A bot under test, started as its own process and watched from outside."""

    command: list[str]
    env: dict[str, str]
    cwd: Path
    port: int
    process: subprocess.Popen | None = None
    workers: int = 0  # separate `asap-coach worker` processes (PostgreSQL), the web only acks
    worker_processes: list[subprocess.Popen] = field(default_factory=list)
    started_at: float = 0.0
    first_ack_cpu_s: float = 0.0
    most_threads: int = 0
    _sampling: bool = False

    @property
    def request_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def start(self, fake: FakeSlack, timeout: float = 60.0) -> float:
        """Start it; returns seconds from spawn to the first acknowledged signed request."""
        log = open(self.cwd / "bot.log", "w")  # noqa: SIM115 - closed with the process
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT
        )
        for number in range(self.workers):
            worker_log = open(self.cwd / f"worker-{number}.log", "w")  # noqa: SIM115
            self.worker_processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot", "worker"],
                    env={**self.env, "PORT": str(free_port())},  # each serves its own probes
                    cwd=self.cwd,
                    stdout=worker_log,
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = self.started_at + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bot exited: {(self.cwd / 'bot.log').read_text()[-3000:]}")
            try:
                fake.connect(self.request_url)  # a signed url_verification challenge
                first_ack = time.monotonic() - self.started_at
                self.first_ack_cpu_s = proc_cpu_seconds(self.process.pid)
                break
            except (RequestUrlError, RuntimeError):
                time.sleep(0.01)
        else:
            raise RuntimeError("the bot never acknowledged a request")
        self._sampling = True
        threading.Thread(target=self._sample, daemon=True).start()
        return first_ack

    def _sample(self) -> None:
        while self._sampling and self.process and self.process.poll() is None:
            self.most_threads = max(self.most_threads, self.status().get("Threads", 0))
            time.sleep(0.25)

    def status(self) -> dict[str, int]:
        assert self.process is not None
        return proc_status(self.process.pid)

    def stop(self) -> None:
        self._sampling = False
        for process in [self.process, *self.worker_processes]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [self.process, *self.worker_processes]:
            if process is None:
                continue
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def slack_env(fake: FakeSlack) -> dict[str, str]:
    """This shell's environment without its Slack and OpenAI settings, and the fake Slack's."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_"))},
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
    }


def our_bot(
    fake: FakeSlack,
    stub: OpenAIStub,
    workdir: Path,
    database_url: str,
    *,
    offline: bool = False,
    source: str = "",
    workers: int = 0,
) -> BotProcess:
    port = free_port()
    env = {
        **slack_env(fake),
        "DATABASE_URL": database_url,
        "OPENAI_API_KEY": "bench-key",
        "OPENAI_BASE_URL": stub.base_url,
        "PRACTICE_TURN_LIMIT": "100000",
        "PRACTICE_INACTIVITY_MINUTES": "600",
        "LOG_LEVEL": "WARNING",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    if offline:  # the default install: no OpenAI key, the built-in engines
        del env["OPENAI_API_KEY"], env["OPENAI_BASE_URL"]
    if source:  # another checkout's `bot` package, e.g. to compare with a commit
        env["PYTHONPATH"] = source
    if not database_url.startswith("sqlite"):
        subprocess.run([sys.executable, "-m", "bot", "migrate"], env=env, cwd=workdir, check=True)
    command = [sys.executable, "-m", "bot", "run", *(["--no-worker"] if workers else [])]
    return BotProcess(command, env, workdir, port, workers=workers)


def peer_bot(
    fake: FakeSlack, stub: OpenAIStub, workdir: Path, peer: Path, python: str
) -> BotProcess:
    port = free_port()
    env = {
        **slack_env(fake),
        "OPENAI_API_KEY": "bench-key",
        "OPENAI_API_BASE": stub.base_url,
        "SLACK_APP_LOG_LEVEL": "WARNING",
        "PORT": str(port),
    }
    launcher = str(REPO / "tests" / "benchmarks" / "peer_launcher.py")
    return BotProcess([python, launcher, "--peer", str(peer)], env, workdir, port)


# ------------------------------------------------------------------------------ what was sent


@dataclass
class Sent:
    """One user action and the deliveries it caused (a mention is a message and an app_mention)."""

    kind: str
    key: tuple  # where its answer appears: see `AnswerLog`
    at: float
    deliveries: list[Delivery] = field(default_factory=list)


class Retrier:
    """Delivers an event again, as Slack does, while it is not acknowledged."""

    def __init__(self, fake: FakeSlack, delays: list[float]) -> None:
        self.fake, self.delays = fake, delays
        self._heap: list[tuple[float, int, Sent, int]] = []
        self._condition = threading.Condition()
        self._pending = 0
        self._stopping = False
        self._count = 0
        self._pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="retry")
        threading.Thread(target=self._run, daemon=True).start()

    def watch(self, sent: Sent) -> None:
        for index, delivery in enumerate(sent.deliveries):
            self._schedule(sent, index, delivery)

    def _schedule(self, sent: Sent, index: int, delivery: Delivery) -> None:
        last = delivery.attempts[-1]
        retries = len(delivery.attempts) - 1
        if delivery.kind != "event" or last.acked or retries >= len(self.delays):
            return
        with self._condition:
            self._count += 1
            self._pending += 1
            due = time.monotonic() + self.delays[retries]
            heapq.heappush(self._heap, (due, self._count, sent, index))
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._stopping and (
                    not self._heap or self._heap[0][0] > time.monotonic()
                ):
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._condition.wait(wait)
                if self._stopping:
                    return
                _, _, sent, index = heapq.heappop(self._heap)
            self._pool.submit(self._retry, sent, index)

    def _retry(self, sent: Sent, index: int) -> None:
        try:
            delivery = sent.deliveries[index]
            reason = delivery.attempts[-1].failure or "unknown_error"
            sent.deliveries[index] = self.fake.redeliver(delivery, reason)
            self._schedule(sent, index, sent.deliveries[index])
        finally:
            with self._condition:
                self._pending -= 1

    @property
    def pending(self) -> int:
        with self._condition:
            return self._pending

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify()
        self._pool.shutdown(wait=False, cancel_futures=True)


# ------------------------------------------------------------------------------ what was answered


class AnswerLog:
    """When each answer appeared in the fake Slack, keyed by where it appeared:
    ("eph", user) for ephemerals, ("chan", channel) and ("thread", channel, thread_ts) for the
    bot's messages, which count once they are final (`is_answer`)."""

    def __init__(self, fake: FakeSlack, is_answer: Callable[[Message], bool], key_of) -> None:
        self.is_answer, self.key_of = is_answer, key_of
        self._changes: list[tuple[float, Change]] = []
        self.busy: set[tuple] = set()  # (channel, ts) or (user, time) of answers labelled busy
        self.ended: set[tuple] = set()  # (user, time) of "this session has ended" notices
        self._lock = threading.Lock()
        self._unsubscribe = fake.subscribe(self._observe)

    def _observe(self, change: Change) -> None:
        if change.kind in ("message_posted", "message_changed", "ephemeral_posted"):
            with self._lock:
                self._changes.append((time.monotonic(), change))

    def answers(self) -> dict[tuple, list[float]]:
        """Key -> the times its answers became final, in order."""
        with self._lock:
            changes = list(self._changes)
        final: dict[tuple, float] = {}
        by_key: dict[tuple, list[float]] = defaultdict(list)
        for at, change in changes:
            record = change.record
            if change.kind == "ephemeral_posted":
                if ENDED_LABEL in record.text:
                    self.ended.add((record.user, at))
                elif SLACK_COMMAND_ERROR not in record.text:
                    by_key[("eph", record.user)].append(at)
                    self._note_busy((record.user, at), record)
                continue
            if record.bot_id is None or (record.channel, record.ts) in final:
                continue
            if self.is_answer(record):
                final[(record.channel, record.ts)] = at
                by_key[self.key_of(record)].append(at)
                self._note_busy((record.channel, record.ts), record)
        return by_key

    def _note_busy(self, key: tuple, record) -> None:
        if BUSY_LABEL in record.text or BUSY_LABEL in json.dumps(record.blocks or []):
            self.busy.add(key)

    def close(self) -> None:
        self._unsubscribe()


def thread_or_channel(message: Message) -> tuple:
    if message.is_reply:
        return ("thread", message.channel, message.thread_ts)
    return ("chan", message.channel)


def ours_is_answer(message: Message) -> bool:
    """A critique in the author's DM, or the customer's message (with its meter) in a thread."""
    if message.is_reply:
        return any(
            block.get("type") == "context" and "Anger" in json.dumps(block.get("elements", []))
            for block in message.blocks or []
        )
    return message.channel.startswith("D")


def peer_key_of(message: Message) -> tuple:
    if message.channel.startswith("D"):
        return ("chan", message.channel)
    return thread_or_channel(message)


def peer_is_answer(message: Message) -> bool:
    return not any(mark in message.text for mark in PEER_UNFINISHED)


# ------------------------------------------------------------------------------ workloads


class OurWorkload:
    """`/practice check`, reactions on a watched channel's replies, practice thread replies."""

    kinds = ("check", "reaction", "practice")

    def __init__(self, fake: FakeSlack, actions: int, sessions: int) -> None:
        self.fake = fake
        self.admin = fake.add_user("admin", is_admin=True)
        self.lead = fake.add_user("lead")
        self.customer = fake.add_user("customer")
        self.checkers = [fake.add_user(f"checker{i}") for i in range(100)]
        self.trainees = [fake.add_user(f"trainee{i}") for i in range(sessions)]
        self.writers = [fake.add_user(f"writer{i}") for i in range(actions // 3 + 1)]
        people = [self.admin, self.lead, self.customer, *self.checkers, *self.trainees]
        self.support = fake.add_channel("support", members=people + self.writers)
        self.threads: list[tuple[str, str, str]] = []  # (trainee, dm, thread_ts)
        self.replies: list[str] = []  # ts of each writer's reply, reacted on once
        self.count = 0

    def prepare(self) -> None:
        fake = self.fake
        fake.send_command(self.admin, self.support, "/practice", f"watch <#{self.support}>")
        for trainee in self.trainees:
            fake.send_command(trainee, self.support, "/practice", SCENARIO)
        deadline = time.monotonic() + 120
        for trainee in self.trainees:
            dm = fake.dm_channel(trainee)
            while time.monotonic() < deadline:
                cards = [m for m in fake.messages(dm) if m.bot_id]
                if cards and any(ours_is_answer(m) for m in fake.messages(dm, cards[-1].ts)):
                    self.threads.append((trainee, dm, cards[-1].ts))
                    break
                time.sleep(0.05)
        if len(self.threads) < len(self.trainees):
            raise RuntimeError(f"only {len(self.threads)} practice sessions started")
        # The watched channel's history is built without calling the bot: one reply per writer.
        fake.wait_idle(30)
        fake.disconnect()
        for writer in self.writers:
            root = fake.user_posts(self.customer, self.support, CUSTOMER_TEXT)
            self.replies.append(fake.user_posts(writer, self.support, AGENT_REPLY, root))

    def send(self) -> Sent:
        kind = self.kinds[self.count % 3]
        index = self.count // 3
        self.count += 1
        fake = self.fake
        if kind == "check":
            checker = self.checkers[index % len(self.checkers)]
            at = time.monotonic()
            delivery = fake.send_command(checker, self.support, "/practice", f"check {AGENT_REPLY}")
            return Sent(kind, ("eph", checker), at, [delivery])
        if kind == "reaction":
            writer = self.writers[index]
            at = time.monotonic()
            delivery = fake.user_reacts(self.lead, self.support, self.replies[index], "teacher")
            return Sent(kind, ("chan", fake.dm_channel(writer)), at, [delivery])
        trainee, dm, thread_ts = self.threads[index % len(self.threads)]
        at = time.monotonic()
        ts = fake.user_posts(trainee, dm, PRACTICE_REPLY, thread_ts)
        return Sent(kind, ("thread", dm, thread_ts), at, deliveries_of(fake, ts))


class PeerWorkload:
    """Mentions in a channel (answered in the mention's thread) and DMs, in turn."""

    kinds = ("mention", "dm")

    def __init__(self, fake: FakeSlack, actions: int, sessions: int) -> None:
        self.fake = fake
        self.askers = [fake.add_user(f"asker{i}") for i in range(100)]
        self.dmers = [fake.add_user(f"dmer{i}") for i in range(max(sessions, 1))]
        self.channel = fake.add_channel("general", members=self.askers)
        self.count = 0

    def prepare(self) -> None:
        pass

    def send(self) -> Sent:
        kind = self.kinds[self.count % 2]
        index = self.count // 2
        self.count += 1
        fake = self.fake
        at = time.monotonic()
        if kind == "mention":
            asker = self.askers[index % len(self.askers)]
            text = f"<@{fake.bot_user_id}> {CUSTOMER_TEXT}"
            ts = fake.user_posts(asker, self.channel, text)
            return Sent(kind, ("thread", self.channel, ts), at, deliveries_of(fake, ts))
        dm = fake.dm_channel(self.dmers[index % len(self.dmers)])
        ts = fake.user_posts(self.dmers[index % len(self.dmers)], dm, CUSTOMER_TEXT)
        return Sent(kind, ("chan", dm), at, deliveries_of(fake, ts))


def deliveries_of(fake: FakeSlack, ts: str) -> list[Delivery]:
    """The event deliveries a person's post at `ts` caused (recent ones are at the end)."""
    found = []
    for delivery in reversed(fake.deliveries[-400:]):
        event = delivery.payload.get("event", {}) if delivery.kind == "event" else {}
        if event.get("ts") == ts and not event.get("bot_id") and not event.get("subtype"):
            found.append(delivery)
    return found


# ------------------------------------------------------------------------------ figures


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def figures(sent: list[Sent], answers: dict[tuple, list[float]], baseline, run_end: float):
    attempts = [d.attempts[0] for s in sent for d in s.deliveries]
    acks = [a.latency for a in attempts]
    within = [a for a in attempts if a.acked and a.latency <= ACK_DEADLINE]
    requests: dict[tuple, list[float]] = defaultdict(list)
    for item in sent:
        requests[item.key].append(item.at)
    latencies, answered, duplicates, lost, last_answer = [], 0, 0, 0, None
    first_sent = min((item.at for item in sent), default=run_end)
    for key, asked in requests.items():
        got = answers.get(key, [])[baseline.get(key, 0) :]
        answered += min(len(got), len(asked))
        duplicates += max(0, len(got) - len(asked))
        lost += max(0, len(asked) - len(got))
        for asked_at, answered_at in zip(sorted(asked), sorted(got), strict=False):
            latencies.append(answered_at - asked_at)
        if got:
            last_answer = max(last_answer or 0.0, max(got))
    by_kind: dict[str, int] = defaultdict(int)
    answered_by_kind: dict[str, int] = defaultdict(int)
    duplicates_by_kind: dict[str, int] = defaultdict(int)
    kind_of_key = {item.key: item.kind for item in sent}
    for key, asked in requests.items():
        got = answers.get(key, [])[baseline.get(key, 0) :]
        answered_by_kind[kind_of_key[key]] += min(len(got), len(asked))
        duplicates_by_kind[kind_of_key[key]] += max(0, len(got) - len(asked))
    for item in sent:
        by_kind[item.kind] += 1
    retries = sum(len(d.attempts) - 1 for s in sent for d in s.deliveries)
    first_attempts: dict[str, list] = defaultdict(list)
    for item in sent:
        first_attempts[item.kind] += [d.attempts[0] for d in item.deliveries]
    return {
        "actions": len(sent),
        "actions_by_kind": dict(by_kind),
        "deliveries": len(attempts),
        "redeliveries": retries,
        "ack_p50_ms": _ms(percentile(acks, 0.50)),
        "ack_p99_ms": _ms(percentile(acks, 0.99)),
        "ack_max_ms": _ms(max(acks) if acks else None),
        "acks_within_3s_pct": round(100 * len(within) / len(attempts), 1) if attempts else None,
        "acks_within_3s_pct_by_kind": {
            kind: round(100 * sum(a.acked and a.latency <= ACK_DEADLINE for a in got) / len(got), 1)
            for kind, got in first_attempts.items()
            if got
        },
        "answers": answered,
        "answers_by_kind": dict(answered_by_kind),
        "answer_p50_s": _s(percentile(latencies, 0.50)),
        "answer_p99_s": _s(percentile(latencies, 0.99)),
        "drain_s": _s(last_answer - run_end) if last_answer else None,
        # Throughput of the whole run, first send to last answer: the drain rate once backed up.
        "answers_per_s": round(answered / (last_answer - first_sent), 2) if last_answer else None,
        "duplicates": duplicates,
        "duplicates_by_kind": dict(duplicates_by_kind),
        "lost": lost,
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _s(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 2)


# ------------------------------------------------------------------------------ runs


def load_run(args, fake: FakeSlack, stub: OpenAIStub, bot: BotProcess, workload) -> dict[str, Any]:
    retrier = Retrier(fake, args.retry_delays)
    calls_before = len(stub.served)
    log = AnswerLog(fake, *answer_rules(args.bot))
    baseline = {key: len(times) for key, times in log.answers().items()}
    sent: list[Sent] = []
    lock = threading.Lock()

    def act() -> None:
        item = workload.send()
        with lock:
            sent.append(item)
        retrier.watch(item)

    total = int(args.rate * args.seconds)
    pool = ThreadPoolExecutor(max_workers=max(64, int(args.rate * 4)), thread_name_prefix="send")
    started = time.monotonic()
    for number in range(total):
        due = started + number / args.rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        pool.submit(act)
    pool.shutdown(wait=True)
    run_end = time.monotonic()
    expected = defaultdict(int)
    for item in sent:
        expected[item.key] += 1

    def answered() -> bool:
        got = log.answers()
        return all(len(got.get(k, [])) - baseline.get(k, 0) >= n for k, n in expected.items())

    deadline = run_end + args.drain_timeout
    while time.monotonic() < deadline and not (answered() and retrier.pending == 0):
        time.sleep(0.5)
    time.sleep(args.settle)  # late duplicates
    result = figures(sent, log.answers(), baseline, run_end)
    result["duplicate_samples"] = duplicate_samples(fake, log.answers(), baseline, expected)
    result["send_duration_s"] = round(run_end - started, 2)
    result["drained"] = answered()
    result["busy_offline_answers"] = len(log.busy)
    result["ended_session_notices"] = len(log.ended)
    result["llm_calls"] = len(stub.served) - calls_before
    status = bot.status()
    result["peak_rss_mb"] = round(status.get("VmHWM", 0) / 1024, 1)
    result["most_threads"] = bot.most_threads
    retrier.stop()
    log.close()
    return result


def retries_run(args, fake: FakeSlack, workload) -> dict[str, Any]:
    """Each surface: one event delivered 4 times (retries 1-3, reason http_timeout)."""
    log = AnswerLog(fake, *answer_rules(args.bot))
    results = {}
    for kind in workload.kinds:
        while workload.kinds[workload.count % len(workload.kinds)] != kind:
            workload.count += 1
        baseline = {key: len(times) for key, times in log.answers().items()}
        item = workload.send()
        if not item.deliveries or item.deliveries[0].kind != "event":
            continue  # commands are never retried by Slack
        for _ in range(3):
            item.deliveries = [fake.redeliver(d, "http_timeout") for d in item.deliveries]
        time.sleep(args.llm_max * 3 + 5)
        got = log.answers().get(item.key, [])[baseline.get(item.key, 0) :]
        results[kind] = {"answers": len(got), "duplicates": max(0, len(got) - 1)}
        if args.bot == "peer":
            messages = [m for m in fake_messages_for(fake, item.key) if m.bot_id]
            unfinished = [m for m in messages if not peer_is_answer(m)]
            results[kind]["bot_messages"] = len(messages)
            results[kind]["never_finished"] = len(unfinished)
    log.close()
    return results


def duplicate_samples(fake: FakeSlack, answers, baseline, expected, most: int = 5) -> list:
    """What the bot said where it answered more often than asked: to tell a repeated answer
    from a repeated opening or note."""
    samples = []
    for key, asked in expected.items():
        if len(answers.get(key, [])) - baseline.get(key, 0) <= asked or key[0] == "eph":
            continue
        said = [(m.ts, m.text[:80]) for m in fake_messages_for(fake, key) if m.bot_id]
        samples.append({"key": list(key), "asked": asked, "bot_messages": said})
        if len(samples) == most:
            break
    return samples


def fake_messages_for(fake: FakeSlack, key: tuple) -> list[Message]:
    if key[0] == "thread":
        return fake.messages(key[1], thread_ts=key[2])
    return fake.messages(key[1])


def default_sessions(args) -> int:
    if args.bot == "peer":
        return 30
    practice_replies = args.rate * args.seconds / len(OurWorkload.kinds)
    return max(30, math.ceil(practice_replies / 3))


def answer_rules(bot: str):
    if bot == "peer":
        return peer_is_answer, peer_key_of
    return ours_is_answer, thread_or_channel


def our_source(args) -> Path:
    return Path(args.bot_source) if args.bot_source else REPO


def git_commit(path: Path) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bot", choices=("ours", "peer"), default="ours")
    parser.add_argument("--peer", type=Path, default=Path("/work/peer/ChatGPT-in-Slack"))
    parser.add_argument("--peer-python", default="/work/peer/venv/bin/python")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rate", type=float, default=10, help="user actions per second")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--sessions",
        type=int,
        help="practice sessions / DM users (default: ours, one session per 3 practice replies, "
        "so that no customer is satisfied and ends the session mid-run; the peer, 30 DM users)",
    )
    parser.add_argument("--llm-min", type=float, default=2.0)
    parser.add_argument("--llm-max", type=float, default=8.0)
    parser.add_argument(
        "--retry-delays",
        type=lambda text: [float(x) for x in text.split(",")],
        default=[0.0, 60.0, 300.0],
        help="seconds before Slack's retries 1-3 of an unacknowledged event",
    )
    parser.add_argument("--drain-timeout", type=float, default=180)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--retries-only", action="store_true")
    parser.add_argument(
        "--startup-only",
        type=int,
        metavar="N",
        help="start the bot N times on one database (the first start makes it): start-up to "
        "first ack and idle RSS 3 s later, no load",
    )
    parser.add_argument("--offline", action="store_true", help="ours without an OpenAI key")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="ours on PostgreSQL: `run --no-worker` plus this many `asap-coach worker` processes "
        "(0: one process runs both)",
    )
    parser.add_argument(
        "--bot-source",
        default="",
        help="run ours from this checkout (a `git worktree` of another commit) instead",
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.workers and (args.bot != "ours" or args.db != "postgresql"):
        parser.error("--workers needs --bot ours --db postgresql")
    if args.startup_only:
        startup_runs(args)
        return
    stub = OpenAIStub()
    stub.default = StubReply.automatic(delay=args.llm_min, max_delay=args.llm_max)
    fake = FakeSlack(signing_secret=SIGNING_SECRET, event_retry_delays=())
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{args.bot}-"))
    database_url = ""
    stub.start()
    fake.start()
    bot = None
    try:
        if args.bot == "ours":
            if args.db == "postgresql":
                database_url = create_postgres_database()
            else:
                database_url = f"sqlite:///{workdir}/asap-coach.db"
            bot = our_bot(
                fake,
                stub,
                workdir,
                database_url,
                offline=args.offline,
                source=args.bot_source,
                workers=args.workers,
            )
        else:
            bot = peer_bot(fake, stub, workdir, args.peer, args.peer_python)
        actions = int(args.rate * args.seconds) + 10
        workload = (OurWorkload if args.bot == "ours" else PeerWorkload)(
            fake, actions, args.sessions or default_sessions(args)
        )
        first_ack = bot.start(fake)
        time.sleep(3)
        idle = bot.status()
        workload.prepare()
        fake.connect(bot.request_url)
        result: dict[str, Any] = {
            "bot": args.bot,
            "commit": git_commit(our_source(args) if args.bot == "ours" else args.peer),
            "db": args.db if args.bot == "ours" else None,
            "rate": args.rate,
            "seconds": args.seconds,
            "llm_seconds": [args.llm_min, args.llm_max],
            "retry_delays": args.retry_delays,
            "workers": args.workers,
            "startup_to_first_ack_s": round(first_ack, 2),
            "idle_rss_mb": round(idle.get("VmRSS", 0) / 1024, 1),
            "idle_threads": idle.get("Threads"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "load_before": os.getloadavg(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        }
        if args.retries_only:
            result["retries"] = retries_run(args, fake, workload)
        else:
            result.update(load_run(args, fake, stub, bot, workload))
        result["load_after"] = os.getloadavg()
    finally:
        if bot is not None:
            bot.stop()
        fake.stop()
        stub.stop()
        if database_url.startswith("postgresql"):
            drop_postgres_database(database_url)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print_table(result)


def startup_runs(args) -> None:
    stub, fake = OpenAIStub(), FakeSlack(signing_secret=SIGNING_SECRET, event_retry_delays=())
    stub.start()
    fake.start()
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-startup-{args.bot}-"))
    database_url = ""
    starts = []
    try:
        if args.bot == "ours" and args.db == "postgresql":
            database_url = create_postgres_database()
        elif args.bot == "ours":
            database_url = f"sqlite:///{workdir}/asap-coach.db"
        for _ in range(args.startup_only):
            if args.bot == "ours":
                bot = our_bot(
                    fake, stub, workdir, database_url, offline=args.offline, source=args.bot_source
                )
            else:
                bot = peer_bot(fake, stub, workdir, args.peer, args.peer_python)
            try:
                first_ack = bot.start(fake)
                time.sleep(3)
                status = bot.status()
            finally:
                bot.stop()
            starts.append(
                {
                    "first_ack_s": round(first_ack, 3),
                    "first_ack_cpu_s": round(bot.first_ack_cpu_s, 2),
                    "idle_rss_mb": round(status.get("VmRSS", 0) / 1024, 1),
                    "threads": status.get("Threads"),
                }
            )
    finally:
        fake.stop()
        stub.stop()
        if database_url.startswith("postgresql"):
            drop_postgres_database(database_url)
    later = starts[1:] or starts
    result = {
        "bot": args.bot,
        "commit": git_commit(our_source(args) if args.bot == "ours" else args.peer),
        "db": args.db if args.bot == "ours" else None,
        "llm": not args.offline,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "load": os.getloadavg(),
        "starts": starts,
        "first_start_first_ack_s": starts[0]["first_ack_s"],
        "restart_first_ack_median_s": statistics.median(s["first_ack_s"] for s in later),
        "restart_first_ack_cpu_median_s": statistics.median(s["first_ack_cpu_s"] for s in later),
        "idle_rss_median_mb": statistics.median(s["idle_rss_mb"] for s in starts),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print_table(result)


def print_table(result: dict[str, Any]) -> None:
    listed = ("actions_by_kind", "acks_within_3s_pct_by_kind", "retries")
    skip = {*listed, "llm_seconds", "retry_delays", "starts"}
    width = max(len(k) for k in result)
    for key, value in result.items():
        if key not in skip:
            print(f"{key:<{width}}  {value}")
    for key in listed:
        if key in result:
            print(f"{key:<{width}}  {json.dumps(result[key])}")


if __name__ == "__main__":
    main()
