"""Receiver benchmark: the same signed traffic against three servers, in one run.

    .venv/bin/python bench/ingest.py              # 3 rounds x 10 s, at 50 then 200 connections
    .venv/bin/python bench/ingest.py --connections 200 --rounds 1

Servers, interleaved round by round so machine noise hits them alike:
  a  bare aiohttp: read the form, answer 200 (the ceiling of this stack)
  b  the seeds' Express sample (body-parser, logs SID and status), if node and npm are here
  c  `msgwatch serve`: validate the signature, commit through group commit, then 200

Traffic: distinct, correctly signed status callbacks (3 statuses per SID, some out of
order), pre-generated, replayed by wrk (`apt-get install wrk`), loopback only, bounded in
time. After each msgwatch round, every acknowledged callback must be in its database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui.domain.signature import compute_signature  # noqa: E402

SERVERS = Path(__file__).resolve().parent / "servers"
TOKEN = "b" * 32  # a bench-only token
PUBLIC = "https://bench.example.com"
WRK_THREADS = 2
TARGET_RPS = 10_000
TARGET_RATIO = 0.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port} after {timeout} s")


def generate(path: Path, count: int, seed: int = 1) -> None:
    """`count` distinct signed callbacks: body, signature, idempotency token per line."""
    rnd = random.Random(seed)
    url = PUBLIC + "/message-status"
    statuses = (("queued", None), ("sent", None), ("delivered", None), ("undelivered", "30003"))
    with path.open("w") as out:
        n = 0
        while n < count:
            sid = f"SM{rnd.getrandbits(128):032x}"
            path_statuses = [statuses[0], statuses[1], rnd.choice(statuses[2:])]
            if rnd.random() < 0.2:  # some arrive out of order
                path_statuses.reverse()
            for status, error in path_statuses:
                params = [
                    ("AccountSid", "AC" + "0" * 32),
                    ("ApiVersion", "2010-04-01"),
                    ("From", "+14155550111"),
                    ("MessageSid", sid),
                    ("MessageStatus", status),
                    ("SmsSid", sid),
                    ("SmsStatus", status),
                    ("To", f"+1415555{rnd.randrange(10000):04d}"),
                ]
                if error:
                    params += [("ErrorCode", error), ("RawDlrDoneDate", "2611231530")]
                body = urlencode(params)
                signature = compute_signature(url, params, TOKEN)
                out.write(f"{body}\t{signature}\t{sid}-{status}\n")
                n += 1


def express_ready(workdir: Path) -> bool:
    if not (shutil.which("node") and shutil.which("npm")):
        return False
    workdir.mkdir(parents=True, exist_ok=True)
    modules = workdir / "node_modules"
    if not (modules / "express").exists():
        done = subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", "express", "body-parser"],
            cwd=workdir, capture_output=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            print("# npm install express failed; skipping the Express server", flush=True)
            return False
    shutil.copy(SERVERS / "express_seed.js", workdir / "express_seed.js")
    return True


def start(name: str, port: int, workdir: Path, db: Path) -> subprocess.Popen[bytes]:
    quiet = subprocess.DEVNULL
    if name == "a":
        cmd = [sys.executable, str(SERVERS / "bare_aiohttp.py"), str(port)]
        return subprocess.Popen(cmd, stdout=quiet, stderr=quiet)
    if name == "b":
        cmd = ["node", str(workdir / "express_seed.js"), str(port)]
        return subprocess.Popen(cmd, stdout=quiet, stderr=quiet, cwd=workdir)
    env = {**os.environ, "TWILIO_AUTH_TOKEN": TOKEN}
    cmd = [
        sys.executable, "-m", "tui", "serve", "--port", str(port), "--db", str(db),
        "--public-url", PUBLIC,
    ]  # fmt: skip
    return subprocess.Popen(cmd, stdout=quiet, stderr=quiet, env=env, cwd=ROOT)


def run_wrk(port: int, traffic: Path, seconds: int, connections: int) -> dict[str, float]:
    cmd = [
        "wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(SERVERS / "replay.lua"), f"http://127.0.0.1:{port}",
        "--", str(traffic), str(WRK_THREADS),
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 60)
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    result: dict[str, float] = json.loads(line[len("RESULT ") :])
    return result


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stored_events(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


def measure(
    servers: list[str], traffic: Path, workdir: Path, connections: int, seconds: int, rounds: int
) -> None:
    """Interleaved rounds of every server at one connection count; prints the table."""
    print(f"# wrk -t{WRK_THREADS} -c{connections} -d{seconds}s, "
          f"{rounds} interleaved rounds, servers {''.join(servers)}", flush=True)  # fmt: skip

    results: dict[str, list[dict[str, float]]] = {s: [] for s in servers}
    for round_no in range(1, rounds + 1):
        for name in servers:
            port = free_port()
            db = workdir / f"serve-{connections}-{round_no}.db"
            proc = start(name, port, ROOT / "bench" / "out", db)
            try:
                wait_for_port(port)
                result = run_wrk(port, traffic, seconds, connections)
            finally:
                stop(proc)
            acknowledged = int(result["requests"] - result["non2xx"] - result["socket_errors"])
            if name == "c":
                stored = stored_events(db)
                result["stored"] = stored
                lost = acknowledged - stored
                status = "all stored" if lost <= 0 else f"LOST {lost}"
                result["acknowledged"] = acknowledged
            else:
                status = ""
            rate = result["requests"] / result["seconds"]
            result["rps"] = rate
            results[name].append(result)
            print(f"round {round_no} {name}: {rate:8,.0f} req/s  p50 {result['p50_ms']:.1f} ms  "
                  f"p99 {result['p99_ms']:.1f} ms  non-2xx {int(result['non2xx'])}  "
                  f"socket errors {int(result['socket_errors'])}  {status}",
                  flush=True)  # fmt: skip

    names = {"a": "bare aiohttp (read form, 200)", "b": "Express seed sample",
             "c": "msgwatch serve (validate + commit)"}  # fmt: skip
    print(f"\n{connections} connections:\n")
    print(f"| server | req/s (median of {rounds}) | p50 ms | p99 ms | non-2xx |")
    print("|---|---|---|---|---|")
    medians: dict[str, float] = {}
    for name in servers:
        rows = results[name]
        medians[name] = statistics.median(r["rps"] for r in rows)
        p50 = statistics.median(r["p50_ms"] for r in rows)
        p99 = statistics.median(r["p99_ms"] for r in rows)
        non2xx = sum(int(r["non2xx"]) for r in rows)
        print(f"| {names[name]} | {medians[name]:,.0f} | {p50:.1f} | {p99:.1f} | {non2xx} |")
    if "c" in medians and "a" in medians:
        print(f"\nc/a = {medians['c'] / medians['a']:.2f}", end="")
    if "c" in medians and "b" in medians:
        print(f"   c/b = {medians['c'] / medians['b']:.2f}", end="")
    print()
    if "c" in results:
        lost = sum(max(0, int(r["acknowledged"] - r["stored"])) for r in results["c"])
        acked = sum(int(r["acknowledged"]) for r in results["c"])
        print(f"msgwatch: {acked:,} callbacks acknowledged, {lost} missing from the database")
    if "c" in medians and "a" in medians:
        rate, ratio = medians["c"], medians["c"] / medians["a"]
        met = rate >= TARGET_RPS and ratio >= TARGET_RATIO
        print(f"target (c >= {TARGET_RPS:,} req/s and c/a >= {TARGET_RATIO}): "
              f"{'met' if met else 'NOT met'} ({rate:,.0f} req/s, {ratio:.2f})")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--connections",
        default="50,200",
        help="open connections, one table per count (a group commit's batch can be no "
        "bigger than the requests in flight: 50 gives batches of ~25)",
    )
    ap.add_argument("--servers", default="abc", help="which of a, b, c to run")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/ingest.py needs wrk: apt-get install wrk")

    workdir = Path(tempfile.mkdtemp(prefix="msgwatch-ingest-"))
    traffic = workdir / "callbacks.tsv"
    # Enough distinct requests that none repeats: more than 40k/s for the whole run.
    count = 40_000 * args.seconds
    t0 = time.perf_counter()
    generate(traffic, count)
    print(f"# {count:,} signed callbacks generated in {time.perf_counter() - t0:.1f} s")
    servers = [s for s in args.servers if s in "abc"]
    if "b" in servers and not express_ready(ROOT / "bench" / "out"):
        servers.remove("b")
    for connections in (int(c) for c in args.connections.split(",")):
        measure(servers, traffic, workdir, connections, args.seconds, args.rounds)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
