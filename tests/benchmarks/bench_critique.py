"""Speed and memory of the offline critique engine on 1,000-character replies.

Run: .venv/bin/python tests/benchmarks/bench_critique.py [--runs N]
Not collected by pytest (no test_ prefix): timings belong in BENCHMARKS.md, not in assertions.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

from bot.coaching.critique import CritiqueRequest
from bot.coaching.offline import OfflineCritiqueEngine

# Hand-written sentences in the style of support replies, mixing every kind of cue and trigger.
SENTENCES = [
    "@jo_customer Hi Jo, I'm so sorry your replacement router still hasn't arrived!",
    "I know how frustrating it is to be without internet when you work from home.",
    "Unfortunately, as per our policy we can't send a courier on weekends.",
    "That's on us: the order was never passed to the warehouse.",
    "I've escalated it to our delivery team and I'll update you by 5pm tomorrow.",
    "In the meantime, go to Settings > Mobile hotspot to share your phone's data.",
    "Please DM us your postcode so we can check for outages: https://example.com/help",
    "You should have received a tracking email, as I already said, but NOT EVERYONE DOES!!",
]


def reply_of_length(length: int) -> str:
    text, index = "", 0
    while len(text) < length:
        text += SENTENCES[index % len(SENTENCES)] + " "
        index += 1
    # Requests strip surrounding whitespace, so never end the cut on a space.
    return text[: length - 1] + "."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--length", type=int, default=1000)
    args = parser.parse_args()

    engine = OfflineCritiqueEngine()
    request = CritiqueRequest(
        agent_reply=reply_of_length(args.length),
        customer_message="My router never came and I've been offline for three days!!",
    )
    engine.critique(request)  # warm-up: loads and compiles the rubric once

    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        engine.critique(request)
        timings.append(time.perf_counter() - started)
    timings.sort()

    tracemalloc.start()
    engine.critique(request)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    p99 = timings[min(len(timings) - 1, round(0.99 * len(timings)) - 1)]
    print(f"offline critique of a {len(request.agent_reply)}-character reply, {args.runs} runs")
    print(f"median {statistics.median(timings) * 1000:.3f} ms")
    print(f"p99    {p99 * 1000:.3f} ms")
    print(f"peak memory per critique {peak / 1024:.0f} KiB (tracemalloc)")


if __name__ == "__main__":
    main()
