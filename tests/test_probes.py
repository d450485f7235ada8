from __future__ import annotations

from bot.services import Services
from bot.settings import load_settings
from bot.web import Probes


def _probes(database_url: str, stopped: str | None = None) -> Probes:
    services = Services.from_settings(load_settings(_env_file=None, database_url=database_url))
    return Probes(services, stopped=lambda: stopped)


def test_ready_when_the_schema_is_at_head(database_url: str) -> None:
    assert _probes(database_url).readiness() == (200, {"status": "ready"})


def test_not_ready_before_migrations(fresh_database_url: str) -> None:
    status, payload = _probes(fresh_database_url).readiness()
    assert status == 503
    assert "run migrate" in payload["reason"]


def test_not_ready_when_the_database_is_unreachable() -> None:
    probes = _probes("postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    assert probes.readiness() == (503, {"status": "unready", "reason": "database unreachable"})


def test_unhealthy_when_a_part_of_the_process_stopped(database_url: str) -> None:
    assert _probes(database_url).health() == (200, {"status": "ok"})
    status, payload = _probes(database_url, stopped="scheduler").health()
    assert status == 503 and payload["reason"] == "scheduler not running"
