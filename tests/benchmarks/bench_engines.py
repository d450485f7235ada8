"""Engines and storage: offline critique per reply length, offline persona turn, LLM tokens per
critique and per practice turn, database rows and bytes per 1,000 critiques and practice turns.

    .venv/bin/python tests/benchmarks/bench_engines.py --out /tmp/engines.json
    .venv/bin/python tests/benchmarks/bench_engines.py --db postgresql --out /tmp/engines-pg.json

Critique and persona timings run pinned to one core (sched_setaffinity). Tokens are the OpenAI
stub's accounting (bot/fakes/openai_stub.py: about 4 characters a token of the exact prompt sent,
and of the answer) for the LLM engines against the stub with no latency. Storage goes through the
bot's own code (`request_critique`, `PracticeSessions`) on a fresh database: SQLite file size, or
PostgreSQL's pg_total_relation_size over our tables. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench_critique import reply_of_length

from bot.coaching.critique import CritiqueRequest
from bot.coaching.engines import EngineChoice, build_critique_engine
from bot.coaching.offline import OfflineCritiqueEngine
from bot.coaching.practice.engines import build_persona
from bot.coaching.practice.mood import Difficulty
from bot.coaching.practice.scenarios import load_scenarios
from bot.coaching.practice.session import Roleplay
from bot.fakes.openai_stub import OpenAIStub, StubReply
from bot.settings import load_settings

CUSTOMER = "My router never came and I've been offline for three days!!"
SCENARIO = "laptop-dead-on-arrival"
REPLIES = [
    "I'm so sorry your laptop arrived dead, that must be really frustrating.",
    "That's on us: it should have been tested before it left the warehouse.",
    "I've booked a courier for tomorrow and I'll email you the label within the hour.",
    "Unfortunately as per our policy you need to send it back first.",
]


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * len(ordered)) - 1)]


def timed(function, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return timings


def critique_speed(lengths: list[int], runs: int) -> dict:
    engine = OfflineCritiqueEngine()
    results = {}
    for length in lengths:
        request = CritiqueRequest(agent_reply=reply_of_length(length), customer_message=CUSTOMER)
        engine.critique(request)  # warm-up: the rubric is loaded and compiled once
        count = max(20, runs * 1000 // max(length, 1000))
        timings = timed(lambda request=request: engine.critique(request), count)
        results[str(length)] = {
            "runs": count,
            "median_ms": round(statistics.median(timings) * 1000, 3),
            "p99_ms": round(p99(timings) * 1000, 3),
            "critiques_per_s_one_core": round(len(timings) / sum(timings), 1),
        }
    return results


def roleplay(settings, seed: str, *, offline: bool) -> Roleplay:
    choice = EngineChoice.offline if offline else EngineChoice.llm
    return Roleplay(
        load_scenarios(None).get(SCENARIO),
        Difficulty("furious"),
        critic=build_critique_engine(settings, choice),
        persona=build_persona(settings, offline_only=offline),
        turn_limit=100_000,
        seed=seed,
    )


def persona_speed(runs: int) -> dict:
    settings = load_settings(openai_api_key=None)
    timings = []
    play = roleplay(settings, "bench", offline=True)
    play.open()
    for number in range(runs):
        started = time.perf_counter()
        play.reply(REPLIES[number % len(REPLIES)])
        timings.append(time.perf_counter() - started)
        if not play.is_active:
            play = roleplay(settings, f"bench-{number}", offline=True)
            play.open()
    return {
        "runs": runs,
        "turn_median_ms": round(statistics.median(timings) * 1000, 3),
        "turn_p99_ms": round(p99(timings) * 1000, 3),
        "note": "one practice turn offline: critique of the reply, mood, persona line",
    }


def llm_tokens(api: str, turns: int) -> dict:
    with OpenAIStub() as stub:
        stub.default = StubReply.automatic()
        settings = load_settings(
            openai_api_key="bench", openai_base_url=stub.base_url, openai_api=api
        )
        engine = build_critique_engine(settings, EngineChoice.llm)
        for length in (100, 1000):
            engine.critique(
                CritiqueRequest(agent_reply=reply_of_length(length), customer_message=CUSTOMER)
            )
        critique_usage = stub.served
        stub.reset()
        stub.default = StubReply.automatic()
        play = roleplay(settings, "tokens", offline=False)
        play.open()
        for number in range(turns):
            if not play.is_active:  # the customer gave up or was satisfied: a new session
                play = roleplay(settings, f"tokens-{number}", offline=False)
                play.open()
            play.reply(REPLIES[number % len(REPLIES)])
        turn_usage = stub.served
    per_critique = [(u.usage.input_tokens, u.usage.output_tokens) for u in critique_usage]
    calls_per_turn = len(turn_usage) / turns
    return {
        "api": api,
        "critique_100_chars": {"prompt": per_critique[0][0], "completion": per_critique[0][1]},
        "critique_1000_chars": {"prompt": per_critique[1][0], "completion": per_critique[1][1]},
        "practice_turn_mean": {
            "calls": round(calls_per_turn, 2),
            "prompt": round(sum(u.usage.input_tokens for u in turn_usage) / turns),
            "completion": round(sum(u.usage.output_tokens for u in turn_usage) / turns),
        },
        "note": "completion tokens are the stub's minimal schema instance / one-line answer; "
        "a real model writes more (OPENAI_MAX_OUTPUT_TOKENS caps a critique at 1500)",
    }


def storage(db_kind: str, count: int) -> dict:
    from sqlalchemy import func, select, text

    from bot.coaching.practice.service import PracticeSessions
    from bot.coaching.reviews import ReviewedMessage, request_critique, review_state
    from bot.store.db import Database
    from bot.store.migrations import upgrade_to_head
    from bot.store.models import Base

    workdir = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    if db_kind == "postgresql":
        from bench_slack_load import create_postgres_database, drop_postgres_database

        url = create_postgres_database()
    else:
        url = f"sqlite:///{workdir}/bench.db"
    try:
        upgrade_to_head(url)
        db = Database(url)
        settings = load_settings(openai_api_key=None, database_url=url)

        def measure() -> tuple[int, int]:
            with db.session() as session:
                rows = sum(
                    session.scalar(select(func.count()).select_from(table))
                    for table in Base.metadata.sorted_tables
                )
                if db_kind == "postgresql":
                    size = sum(
                        session.scalar(text(f"SELECT pg_total_relation_size('{t.name}')"))
                        for t in Base.metadata.sorted_tables
                    )
                else:
                    session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
                    size = Path(workdir / "bench.db").stat().st_size
            return rows, size

        empty_rows, empty_bytes = measure()
        engine = OfflineCritiqueEngine()
        for number in range(count):
            message = ReviewedMessage(
                team_id="T0BENCH",
                channel_id="C0BENCH",
                message_ts=f"1700000000.{number:06d}",
                author_user_id=f"U{number % 50:05d}",
                text=reply_of_length(400),
                customer_messages=(CUSTOMER,),
            )
            state = review_state(
                db, message.team_id, message.channel_id, message.message_ts, "U0LEAD"
            )
            request_critique(db, engine, message, "U0LEAD", "reaction", state)
        critique_rows, critique_bytes = measure()

        sessions = PracticeSessions.from_settings(db, settings)
        sessions.turn_limit = 100_000
        played, user = 0, 0
        while played < count:  # sessions of up to 20 replies; a new one when a session ends
            user += 1
            who = f"UP{user:05d}"
            sessions.start("T0BENCH", who, SCENARIO, Difficulty("furious"), "D0BENCH")
            for turn in range(min(20, count - played)):
                if sessions.active_session("T0BENCH", who) is None:
                    break
                sessions.reply("T0BENCH", who, REPLIES[turn % 3])  # replies without triggers
                played += 1
            sessions.end("T0BENCH", who)
        turn_rows, turn_bytes = measure()
        db.dispose()
    finally:
        if db_kind == "postgresql":
            drop_postgres_database(url)
    scale = 1000 / count
    return {
        "db": db_kind,
        "count": count,
        "per_1000_critiques": {
            "rows": round((critique_rows - empty_rows) * scale),
            "bytes": round((critique_bytes - empty_bytes) * scale),
        },
        "per_1000_practice_turns": {
            "rows": round((turn_rows - critique_rows) * scale),
            "bytes": round((turn_bytes - critique_bytes) * scale),
        },
        "practice_sessions": user,
        "note": "critiques of 400-character replies, scores only (the default; `/practice "
        "store-text on` keeps the text too); a "
        "practice turn is the agent's reply and the customer's answer, in sessions of <= 20",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="critiques at 1,000 characters")
    parser.add_argument("--lengths", default="100,1000,10000")
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--storage-count", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    result = {
        "machine": f"{os.cpu_count()} cores, pinned to one",
        "load_before": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "critique": critique_speed([int(n) for n in args.lengths.split(",")], args.runs),
        "persona_turn": persona_speed(args.turns),
        "llm_tokens": [llm_tokens("responses", 20), llm_tokens("chat", 20)],
        "storage": storage(args.db, args.storage_count),
        "load_after": os.getloadavg(),
    }
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
