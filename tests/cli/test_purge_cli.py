"""`asap-coach purge --team`: the workspace's rows go, its jobs waiting in the queue too."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.jobs.queue import JobQueue
from bot.settings import load_settings


def test_purging_a_workspace_deletes_its_waiting_jobs_and_no_one_elses(
    backend: str, database_url: str, monkeypatch, capsys
) -> None:
    if backend != "postgresql":
        pytest.skip("on SQLite the queue lives in the running bot's memory")
    monkeypatch.setenv("DATABASE_URL", database_url)
    jobs = JobQueue(load_settings(_env_file=None, database_url=database_url))
    jobs.open()
    try:
        for team_id in ("T1", "T2"):
            draft = {"team_id": team_id, "user_id": "U1", "draft": "Sorry!", "response_url": "x"}
            jobs.app.configure_task("check_draft", queue="coaching").defer(**draft, asked_at=0.0)

        assert main(["purge", "--team", "T1"]) == 0

        waiting = jobs._call(jobs.app.job_manager.list_jobs_async(), 5)
        assert [job.task_kwargs["team_id"] for job in waiting] == ["T2"]
        assert "procrastinate_jobs 1" in capsys.readouterr().out
    finally:
        jobs.close()
