"""Console capacity: callback-to-screen latency against the callback rate, on one machine.

    .venv/bin/python bench/console_sweep.py                         # 1,000-2,000/s, 2 rounds
    .venv/bin/python bench/console_sweep.py --rates 1500,2000 --rounds 3

`bench/console.py` measures one rate, the issue's 2,000/s. This runs its session phase
(the same child process, database, load generator and probes) at several rates, so the
figures say where the knee is: the rate past which the console, its store's writer
process and the load generator no longer fit in this machine's two cores and answers
queue. For each trial it prints the rate acknowledged, the ack latency, callback-to-
screen p50/p99, key-press p99, the CPU of each process, that CPU per acknowledged
callback (the cost, which a busy machine barely changes), and how idle the machine was.

Rates run interleaved (each round ascends, the next descends), so a slow stretch of this
shared machine spreads over all of them. Each trial prints a line as it ends; the table
after them gives the median of the rounds for each figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.console import (
    CACHE_DIR,
    CALLBACK_P99_TARGET_MS,
    ensure_database,
    percentile,
    run_child,
    scratch_copy,
)


def trial(args: argparse.Namespace, rate: int, cached: Path) -> dict[str, Any]:
    """One session child at `rate` on a fresh, synced copy of the cached database."""
    workdir = CACHE_DIR / f"sweep-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    child = argparse.Namespace(**vars(args))
    child.rate = rate
    try:
        child.db = workdir / "console.db"
        scratch_copy(cached, child.db)
        session = run_child(child, "session", workdir, timeout=240 + 2 * args.seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if session is None:
        raise RuntimeError(f"the session at {rate}/s ran out of time")
    return figures(session["load"])


def figures(load: dict[str, Any]) -> dict[str, Any]:
    gen = load["generator"]
    acked = gen["rate"]
    cpu = load["cpu_percent"]
    c2s = load["callback_ms"]

    def per_callback(percent: float) -> float:  # us of CPU per acknowledged callback
        return percent * 1e4 / acked if acked else float("nan")

    return {
        "acked": acked,
        "ack_p50": gen["ack_p50_ms"],
        "ack_p99": gen["ack_p99_ms"],
        "c2s_p50": percentile(c2s, 0.5),
        "c2s_p99": percentile(c2s, 0.99),
        "c2s_n": len(c2s),
        "key_p99": percentile(load["key_ms"], 0.99),
        "cpu_console": cpu["console"],
        "cpu_writer": cpu["writer"],
        "cpu_generator": gen["cpu_percent"],
        "us_console": per_callback(cpu["console"]),
        "us_writer": per_callback(cpu["writer"]),
        "idle": load["machine_idle_percent"],
        "writer_busy": load["writer_busy_percent"],
        "non_2xx": gen["answered"] - gen["ok"],
        "errors": gen["errors"],
    }


COLUMNS = (
    ("acked", "acknowledged/s", "{:,.0f}"),
    ("ack_p50", "ack p50 ms", "{:.0f}"),
    ("ack_p99", "ack p99 ms", "{:.0f}"),
    ("c2s_p50", "callback-to-screen p50 ms", "{:.0f}"),
    ("c2s_p99", "**callback-to-screen p99 ms**", "**{:.0f}**"),
    ("key_p99", "key p99 ms", "{:.0f}"),
    ("cpu_console", "CPU console %", "{:.0f}"),
    ("cpu_writer", "CPU writer %", "{:.0f}"),
    ("cpu_generator", "CPU generator %", "{:.0f}"),
    ("us_console", "console us/callback", "{:.0f}"),
    ("us_writer", "writer us/callback", "{:.0f}"),
    ("writer_busy", "writer busy %", "{:.0f}"),
    ("idle", "machine idle %", "{:.0f}"),
)


def table(results: dict[int, list[dict[str, Any]]]) -> str:
    titles = [title for _, title, _ in COLUMNS] + [f"p99 < {CALLBACK_P99_TARGET_MS:.0f} ms?"]
    lines = [
        "| rate | " + " | ".join(titles) + " |",
        "|---" * (len(COLUMNS) + 2) + "|",
    ]
    for rate, trials in sorted(results.items()):
        cells = [fmt.format(statistics.median(t[key] for t in trials)) for key, _, fmt in COLUMNS]
        met = sum(t["c2s_p99"] < CALLBACK_P99_TARGET_MS for t in trials)
        lines.append(f"| {rate:,}/s | " + " | ".join(cells) + f" | {met} of {len(trials)} |")
    return "\n".join(lines)


def marginal_costs(results: dict[int, list[dict[str, Any]]]) -> list[str]:
    """Each process's CPU as a fixed part (frames, timers: paid at any rate) plus a part
    per acknowledged callback, fitted over every trial."""
    trials = [t for ts in results.values() for t in ts]
    if len({round(t["acked"]) for t in trials}) < 2:
        return []
    notes = []
    for key, name in (("cpu_console", "console"), ("cpu_writer", "writer process"),
                      ("cpu_generator", "load generator")):  # fmt: skip
        per, fixed = statistics.linear_regression(
            [t["acked"] for t in trials], [t[key] for t in trials]
        )
        notes.append(f"{name}: {fixed:.0f}% of a core at any rate + {per * 1e4:.0f} us/callback")
    return notes


def trial_line(rate: int, n: int, t: dict[str, Any]) -> str:
    return (
        f"round {n} {rate:,}/s: {t['acked']:,.0f}/s acked (non-2xx {t['non_2xx']}, errors "
        f"{t['errors']}), ack p50/p99 {t['ack_p50']:.0f}/{t['ack_p99']:.0f} ms, "
        f"c2s p50/p99 {t['c2s_p50']:.0f}/{t['c2s_p99']:.0f} ms ({t['c2s_n']} rows), "
        f"key p99 {t['key_p99']:.0f} ms, CPU {t['cpu_console']:.0f}/{t['cpu_writer']:.0f}/"
        f"{t['cpu_generator']:.0f}%, writer busy {t['writer_busy']:.0f}%, idle {t['idle']:.0f}%"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--rates", default="1000,1250,1500,1750,2000", help="callbacks/s, comma-separated"
    )
    ap.add_argument("--rounds", type=int, default=2, help="trials at each rate")
    ap.add_argument("--rows", type=int, default=1_000_000, help="messages in the store")
    ap.add_argument("--seconds", type=float, default=15.0, help="load with the list following")
    ap.add_argument("--key-seconds", type=float, default=5.0, help="load while pressing keys")
    ap.add_argument("--connections", type=int, default=512, help="most load generator connections")
    ap.add_argument("--load", choices=("scattered", "lifecycle"), default="scattered")
    args = ap.parse_args()
    try:
        rates = sorted({int(r) for r in args.rates.split(",")})
    except ValueError:
        ap.error(f"--rates takes whole numbers separated by commas, not {args.rates!r}")
    if not rates or min(rates) <= 0 or args.rounds < 1:
        ap.error("give at least one positive rate and one round")

    print("# " + " ".join([".venv/bin/python bench/console_sweep.py", *sys.argv[1:]]), flush=True)
    cached = ensure_database(args.rows)
    results: dict[int, list[dict[str, Any]]] = {rate: [] for rate in rates}
    started = time.perf_counter()
    for n in range(1, args.rounds + 1):
        for rate in rates if n % 2 else reversed(rates):
            t = trial(args, rate, cached)
            results[rate].append(t)
            print(trial_line(rate, n, t), flush=True)
    print(
        f"# {len(rates) * args.rounds} trials in {time.perf_counter() - started:.0f} s; "
        f"{args.rows:,} messages, {args.load} load, {args.seconds:.0f} s following + "
        f"{args.key_seconds:.0f} s of keys per trial, medians of {args.rounds} rounds"
    )
    print()
    print(table(results))
    notes = marginal_costs(results)
    if notes:
        print()
        print("CPU fitted over every trial (least squares):")
        for note in notes:
            print(f"- {note}")


if __name__ == "__main__":
    main()
