"""Ours and the peer, alternately, at several rates: the median of each figure over --runs runs.

    .venv/bin/python tests/benchmarks/bench_side_by_side.py --rates 10,50,100 --seconds 20 \\
        --runs 3 --out /tmp/side-by-side.json

Each run is one `bench_slack_load.py` process (see its docstring for what is measured); every
run's JSON is kept beside --out. Also runs the retries check (one event delivered 4 times) once
per bot. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIGURES = (
    "ack_p50_ms",
    "ack_p99_ms",
    "ack_max_ms",
    "acks_within_3s_pct",
    "answers",
    "answer_p50_s",
    "answer_p99_s",
    "drain_s",
    "answers_per_s",
    "busy_offline_answers",
    "llm_calls",
    "duplicates",
    "lost",
    "peak_rss_mb",
    "most_threads",
    "idle_rss_mb",
    "startup_to_first_ack_s",
)


def run(bot: str, extra: list[str], out: Path, passthrough: list[str]) -> dict:
    command = [sys.executable, str(HERE / "bench_slack_load.py"), "--bot", bot, "--out", str(out)]
    subprocess.run(command + extra + passthrough, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def median(values: list) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 2) if present else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="10,50,100")
    parser.add_argument("--seconds", default="20")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bots", default="ours,peer")
    parser.add_argument("--out", type=Path, required=True)
    args, passthrough = parser.parse_known_args()
    folder = args.out.with_suffix("")
    folder.mkdir(parents=True, exist_ok=True)
    bots = args.bots.split(",")
    summary: dict = {"runs": args.runs, "seconds": float(args.seconds), "rates": {}}
    for rate in args.rates.split(","):
        results: dict[str, list[dict]] = {bot: [] for bot in bots}
        for number in range(args.runs):
            for bot in bots:  # alternate, so drifting machine load hits both alike
                out = folder / f"{bot}-{rate}-{number}.json"
                extra = ["--rate", rate, "--seconds", args.seconds]
                results[bot].append(run(bot, extra, out, passthrough))
                print(f"{bot} at {rate}/s run {number + 1}: load {os.getloadavg()[0]:.2f}")
        summary["rates"][rate] = {
            bot: {f: median([r.get(f) for r in runs]) for f in FIGURES}
            | {"commit": runs[0]["commit"], "load": [r["load_before"][0] for r in runs]}
            for bot, runs in results.items()
        }
        args.out.write_text(json.dumps(summary, indent=2))
    for bot in bots:
        out = folder / f"{bot}-retries.json"
        summary.setdefault("retries", {})[bot] = run(bot, ["--retries-only"], out, passthrough)[
            "retries"
        ]
    args.out.write_text(json.dumps(summary, indent=2))
    print_table(summary, bots)


def print_table(summary: dict, bots: list[str]) -> None:
    for rate, per_bot in summary["rates"].items():
        print(f"\n{rate} actions/s for {summary['seconds']} s (median of {summary['runs']})")
        print(f"{'figure':<24}" + "".join(f"{bot:>14}" for bot in bots))
        for figure in FIGURES:
            print(f"{figure:<24}" + "".join(f"{per_bot[b][figure]!s:>14}" for b in bots))
    print("\nretries 1-3 of one event:", json.dumps(summary.get("retries", {})))


if __name__ == "__main__":
    main()
