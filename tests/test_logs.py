"""What reaches the log stream: one line a record (text or JSON) with the ids bound around it, and
never a Slack token, a request body or a job's arguments above DEBUG."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from bot.jobs.job import Queue
from bot.logs import build_handler, configure_logging, log_context, withhold_request_bodies
from bot.settings import LogFormat, load_settings


@pytest.fixture
def logged() -> Iterator[Callable[..., tuple[logging.Logger, io.StringIO]]]:
    """A logger whose records go through the bot's handler into a string."""
    attached: list[tuple[logging.Logger, logging.Handler]] = []

    def attach(
        log_format: LogFormat, name: str = "test.logs"
    ) -> tuple[logging.Logger, io.StringIO]:
        stream = io.StringIO()
        handler = build_handler(log_format, stream)
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        attached.append((logger, handler))
        return logger, stream

    yield attach
    for logger, handler in attached:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


@dataclass(frozen=True, kw_only=True)
class _Draft:
    """A job of the test's own tasks: a draft's text, which must never reach the logs."""

    task: str
    draft: str = "my card was charged twice"
    queue: Queue = Queue.coaching

    def arguments(self) -> dict:
        return {"draft": self.draft}

    def lock(self) -> None:
        return None


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_record_is_one_object_with_the_ids_bound_around_it(logged) -> None:
    logger, stream = logged(LogFormat.json)
    with log_context(team_id="T1", event_id="Ev1"):
        logger.info("critique %s posted", 42)
        with log_context(channel_id="C1", event_id="Ev2"):
            logger.warning("retrying")
    logger.info("outside")

    first, inner, outside = json_lines(stream)
    assert first["message"] == "critique 42 posted" and first["level"] == "INFO"
    assert first["logger"] == "test.logs" and first["time"].endswith("+00:00")
    assert (first["team_id"], first["event_id"]) == ("T1", "Ev1") and "channel_id" not in first
    assert (inner["team_id"], inner["channel_id"], inner["event_id"]) == ("T1", "C1", "Ev2")
    assert set(outside) == {"time", "level", "logger", "message"}


def test_ids_stay_with_their_thread(logged) -> None:
    logger, stream = logged(LogFormat.json)
    with log_context(team_id="T1", job_id=7):
        other = threading.Thread(target=logger.info, args=("from another thread",))
        other.start()
        other.join()
        logger.info("from this one")

    records = {record["message"]: record for record in json_lines(stream)}
    assert "team_id" not in records["from another thread"]
    assert records["from this one"]["job_id"] == "7"


def test_text_lines_end_with_the_ids_before_any_traceback(logged) -> None:
    logger, stream = logged(LogFormat.text)
    with log_context(team_id="T1", channel_id="C1"):
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logger.exception("reply failed")

    first, *traceback = stream.getvalue().splitlines()
    assert first.endswith("ERROR test.logs: reply failed [team_id=T1 channel_id=C1]")
    assert traceback[-1] == "RuntimeError: boom"


@pytest.mark.parametrize("log_format", list(LogFormat))
def test_slack_tokens_never_reach_a_log_line(logged, log_format) -> None:
    logger, stream = logged(log_format)
    logger.debug("calling with %s and xapp-1-A0-123-abc", "Bearer xoxb-123-456-abcDEF")
    try:
        raise ValueError("invalid_auth for xoxp-999-888-secret")
    except ValueError:
        logger.exception("Slack refused")

    output = stream.getvalue()
    assert "xoxb" not in output and "xapp" not in output and "xoxp" not in output
    assert "calling with Bearer [redacted-token] and [redacted-token]" in output
    assert "ValueError: invalid_auth for [redacted-token]" in output


def test_json_lines_leave_out_what_a_library_attaches_to_a_record(logged) -> None:
    logger, stream = logged(LogFormat.json)
    logger.info("posted", extra={"text": "my card was charged twice", "team_id": "T9"})

    [record] = json_lines(stream)
    assert "my card was charged twice" not in stream.getvalue()
    assert record["team_id"] == "T9"  # an id the caller passed itself is kept


def test_a_bolt_signature_failure_is_logged_without_its_body(caplog) -> None:
    app_logger = logging.getLogger("test.bolt_app")
    withhold_request_bodies(app_logger)
    withhold_request_bodies(app_logger)  # once is enough, twice changes nothing
    # bolt gives its loggers the app logger's level: another test's app may have set one.
    with (
        caplog.at_level(logging.INFO),
        caplog.at_level(logging.INFO, logger="slack_bolt.RequestVerification"),
    ):
        logging.getLogger("slack_bolt.RequestVerification").info(
            "Invalid request signature detected (signature: v0=00, timestamp: 1700000000, "
            "body: command=%2Fpractice&text=secret+words&response_url=https%3A%2F%2Fhooks)"
        )
        app_logger.warning(
            "A global middleware (m) skipped calling either `next()` or `next_()` without "
            "providing a response for the request ({'text': 'secret words'})"
        )

    assert "secret" not in caplog.text and "hooks" not in caplog.text
    assert "timestamp: 1700000000, body: withheld)" in caplog.text
    assert "for the request (withheld)" in caplog.text
    assert len(logging.getLogger("slack_bolt.RequestVerification").filters) == 1


def test_log_format_is_a_setting_and_configures_the_root_handler(capsys) -> None:
    assert load_settings(_env_file=None).log_format is LogFormat.text
    assert load_settings(_env_file=None, log_format="JSON").log_format is LogFormat.json
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("info", LogFormat.json)
        logging.getLogger("test.configured").info("ready")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)

    [line] = capsys.readouterr().err.splitlines()
    assert json.loads(line)["message"] == "ready"


def test_procrastinate_names_a_job_by_task_and_id_above_debug(logged) -> None:
    procrastinate = pytest.importorskip("procrastinate", reason="the job queue is not installed")
    from procrastinate.testing import InMemoryConnector

    _, stream = logged(LogFormat.json, name="procrastinate")
    app = procrastinate.App(connector=InMemoryConnector())

    @app.task(name="check_draft")
    def check_draft(draft: str, team_id: str) -> dict:
        return {"posted": draft}

    def defer_and_work() -> None:
        with app.open():
            check_draft.defer(draft="my card was charged twice", team_id="T1")
            app.run_worker(
                wait=False, install_signal_handlers=False, listen_notify=False, name="w1"
            )

    # In a thread of its own: procrastinate's sync API refuses a thread with a running event loop
    # (the browser tests' Playwright leaves one in the main thread).
    worker = threading.Thread(target=defer_and_work)
    worker.start()
    worker.join(timeout=30)

    above_debug = [record for record in json_lines(stream) if record["level"] != "DEBUG"]
    messages = [record["message"] for record in above_debug]
    assert "Starting job check_draft[1]" in messages
    assert any(m.startswith("Job check_draft[1] ended with status: Success") for m in messages)
    assert "charged twice" not in json.dumps(above_debug)
    assert {record.get("job_id") for record in above_debug if "job" in record["message"]} >= {"1"}
    # The worker's own loggers (procrastinate.worker.w1) are covered, not only the package's.
    assert {record["logger"] for record in above_debug} >= {
        "procrastinate.worker",
        "procrastinate.worker.w1",
    }


def test_a_job_stopped_mid_run_or_failing_on_its_text_logs_neither_its_arguments_nor_the_error(
    logged, tmp_path
) -> None:
    from bot.jobs.queue import JobQueue

    _, stream = logged(LogFormat.json, name="procrastinate")
    started = threading.Event()

    def register(app) -> None:
        @app.task(name="slow_draft", queue="coaching")
        def slow_draft(draft: str, enqueued_at: float) -> None:
            started.set()
            time.sleep(0.5)

        @app.task(name="failing_draft", queue="coaching")
        def failing_draft(draft: str, enqueued_at: float) -> None:
            raise ValueError(f"could not read {draft!r}")

    settings = load_settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'q.db'}")
    queue = JobQueue(settings)
    queue.start_workers(register, {})
    queue.enqueue(_Draft(task="failing_draft"))
    queue.enqueue(_Draft(task="slow_draft"))
    assert started.wait(5)
    queue.close()  # while slow_draft still runs: procrastinate waits for it, and says so

    above_debug = [record for record in json_lines(stream) if record["level"] != "DEBUG"]
    assert "charged twice" not in json.dumps(above_debug)
    messages = [record["message"] for record in above_debug]
    assert any(m.startswith("Waiting for job to finish: worker: slow_draft[") for m in messages)
    assert any("failing_draft[" in m and "(ValueError)" in m for m in messages)
