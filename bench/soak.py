#!/usr/bin/env python
"""Soak and chaos: the whole platform as `./scripts/up` runs it, under load.

Prepares a PostgreSQL database (migrate, refdata, `chanrong demo --scale S`),
creates API tokens, registers a webhook endpoint for each demo bank on a
receiver this script runs on loopback, and starts `chanrong serve` (gunicorn,
task worker and scheduler under one supervisor, as scripts/up does) on a
free 127.0.0.1 port. Then C client threads run a mixed workload for M
minutes, each as one demo user:

  enterprise  create + publish a demand (dispatches, audit, inbox, webhooks),
              list its demands, accept an offer when one is waiting
  institution list its dispatches, claim one, make an offer on a claimed one

and the script prints: requests, errors (5xx, connection failures and
answers no step expects; 409 from two clients racing for the same dispatch
is counted apart, as expected contention), p50/p99 per step, each
process's memory (RSS) at the start and the end of the run, how many tasks
were still waiting when the load stopped and after the worker had a minute
to drain, and whether every webhook delivery reached the receiver.

--chaos also, during the run: (1) enqueues a full re-match (a long task)
and kill -9s the worker while it runs; (2) makes the receiver slow, waits
until a webhook delivery is running and kill -9s the worker again. The
supervisor restarts the worker; the report says whether the re-match
finished and every delivery arrived after all. Prints figures; asserts
nothing (exit status 0 unless the set-up fails).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_soak \\
        .venv/bin/python bench/soak.py --clients 50 --minutes 10 --chaos
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demands_load import (  # noqa: E402  (bench scripts import their siblings)
    CHANRONG,
    ROOT,
    Client,
    analyse,
    create_database,
    demand_body,
    free_port,
    pct,
    run,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bench_soak"
ENTERPRISES = ("ent_user", "ent2_user")
INSTITUTIONS = ("bank_staff", "bank2_staff", "bank_manager")
#: Answers a step may get without anything being wrong: a race lost to
#: another client (409), or the object moved on meanwhile (404 after a
#: withdrawal is not produced here, so only 409).
CONTENTION = {409}


# --- the webhook receiver ----------------------------------------------------------------------


class Receiver:
    """Counts deliveries by X-Chanrong-Delivery; `slow` seconds per request
    while set (so that a delivery is running when the worker is killed)."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.slow = 0.0
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if owner.slow:
                    time.sleep(owner.slow)
                with owner.lock:
                    key = self.headers.get("X-Chanrong-Delivery", "?")
                    owner.seen[key] = owner.seen.get(key, 0) + 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


# --- processes ---------------------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    ).stdout
    return [int(x) for x in out.split()]


def tree(pid: int) -> dict[int, str]:
    """{pid: command line} of a process and all its descendants."""
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            cmd = Path(f"/proc/{current}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        found[current] = cmd.strip()
        todo.extend(children_of(current))
    return found


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def role(cmd: str) -> str:
    if "gunicorn" in cmd:
        return "web"
    if "db_worker" in cmd:
        return "worker"
    if " tick" in cmd:
        return "scheduler"
    if " serve" in cmd:
        return "supervisor"
    return cmd[:40]


def memory(pid: int) -> dict[int, tuple[str, float]]:
    return {
        p: (role(cmd), rss)
        for p, cmd in tree(pid).items()
        if (rss := rss_mib(p)) is not None and "ps -o" not in cmd
    }


def worker_pid(root: int) -> int | None:
    """The innermost db_worker process (the one running tasks)."""
    for p, cmd in tree(root).items():
        inner = [c for c in children_of(p) if "db_worker" in tree(c).get(c, "")]
        if "db_worker" in cmd and "serve" not in cmd and not inner:
            return p
    return None


# --- the database, read directly ---------------------------------------------------------------


def sql(url: str, query: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def queued(url: str) -> tuple[int, int]:
    """(tasks due now and waiting, tasks deferred to a later time)."""
    rows = sql(
        url,
        # run_after holds the latest date the backend knows when a task is not deferred.
        "SELECT (run_after <= now() OR run_after > now() + interval '100 years'), count(*) "
        "FROM django_tasks_database_dbtaskresult WHERE status = 'READY' GROUP BY 1",
    )
    counts = dict(rows)
    return counts.get(True, 0), counts.get(False, 0)


def task_status(url: str, path: str, since: float) -> list[str]:
    rows = sql(
        url,
        "SELECT status FROM django_tasks_database_dbtaskresult "
        "WHERE task_path = %s AND enqueued_at >= to_timestamp(%s) ORDER BY enqueued_at",
        (path, since),
    )
    return [r[0] for r in rows]


# --- the workload ------------------------------------------------------------------------------


class Stats:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.contention = 0
        self.lock = threading.Lock()

    def add(self, label: str, status: int, expected: int, seconds: float) -> bool:
        with self.lock:
            self.latencies.setdefault(label, []).append(seconds)
            if status == expected:
                return True
            if status in CONTENTION:
                self.contention += 1
            else:
                key = f"{label}:{status}"
                self.errors[key] = self.errors.get(key, 0) + 1
        return False


def enterprise_loop(client: Client, stats: Stats, stop_at: float, index: int) -> None:
    i = 0
    while time.monotonic() < stop_at:
        i += 1
        status, body, s = client.call("POST", "/api/v1/demands", demand_body(index, i))
        if stats.add("create", status, 201, s):
            pk = json.loads(body)["id"]
            status, _b, s = client.call("POST", f"/api/v1/demands/{pk}/publish")
            stats.add("publish", status, 200, s)
        status, body, s = client.call("GET", "/api/v1/demands?state=negotiating&page_size=20")
        if not stats.add("list demands", status, 200, s):
            continue
        offered = json.loads(body).get("results", [])
        if offered:
            demand = random.choice(offered)
            status, body, s = client.call("GET", f"/api/v1/demands/{demand['id']}/offers")
            if stats.add("offers", status, 200, s):
                waiting = [o for o in json.loads(body) if o.get("status") == "offered"]
                if waiting:
                    path = f"/api/v1/demands/{demand['id']}/offers/{waiting[0]['id']}/accept"
                    status, _b, s = client.call("POST", path)
                    stats.add("accept", status, 200, s)


def institution_loop(client: Client, stats: Stats, stop_at: float, index: int) -> None:
    while time.monotonic() < stop_at:
        status, body, s = client.call("GET", "/api/v1/dispatches?state=dispatched&page_size=20")
        if stats.add("list dispatches", status, 200, s):
            items = json.loads(body).get("results", [])
            if items:
                pk = random.choice(items)["id"]
                status, _b, s = client.call("POST", f"/api/v1/dispatches/{pk}/claim")
                stats.add("claim", status, 200, s)
        status, body, s = client.call("GET", "/api/v1/dispatches?state=claimed&page_size=20")
        if stats.add("list dispatches", status, 200, s):
            items = json.loads(body).get("results", [])
            if items:
                pk = random.choice(items)["id"]
                offer = {"amount_wan": 100, "rate": "4.5", "term_months": 12, "terms": "压测方案"}
                status, _b, s = client.call("POST", f"/api/v1/dispatches/{pk}/offer", offer)
                stats.add("offer", status, 200, s)


# --- chaos -------------------------------------------------------------------------------------


def kill_worker_while(
    url: str, root: int, task_path: str, since: float, wait: float
) -> tuple[bool, str]:
    """Wait until a task of `task_path` is RUNNING, then kill -9 the worker."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if "RUNNING" in task_status(url, task_path, since):
            pid = worker_pid(root)
            if pid:
                os.kill(pid, signal.SIGKILL)
                return True, f"killed worker pid {pid} while {task_path} was running"
        time.sleep(0.2)
    return False, f"{task_path} was not seen running within {wait:.0f} s"


def chaos(url: str, root: int, receiver: Receiver, env: dict, log: list[str]) -> dict:
    found: dict = {}
    # 1. A full re-match, killed mid-run.
    since = time.time() - 1
    run(
        [
            *CHANRONG,
            "shell",
            "-c",
            "from chanrong.matching.tasks import rematch_all; rematch_all.enqueue()",
        ],
        env,
    )
    # At priority −20 the re-match waits for the deliveries queued before it.
    ok, what = kill_worker_while(url, root, "chanrong.matching.tasks.rematch_all", since, 600)
    log.append(f"chaos 1 (batch re-match): {what}")
    found["rematch_since"] = since
    found["rematch_killed"] = ok
    time.sleep(15)
    # 2. A webhook delivery, killed mid-run (the receiver holds each POST 4 s;
    # the platform waits 5 s for an answer).
    receiver.slow = 4.0
    ok, what = kill_worker_while(url, root, "chanrong.api.webhooks.deliver_webhook", 0, 180)
    receiver.slow = 0.0
    log.append(f"chaos 2 (webhook delivery): {what}")
    found["webhook_killed"] = ok
    return found


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--scale", type=float, default=0.1, help="demo scale")
    parser.add_argument("--chaos", action="store_true", help="kill -9 the worker twice")
    parser.add_argument("--drain", type=float, default=300, help="seconds to let queues drain")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must be a PostgreSQL URL")
    var = ROOT / "var" / "bench_soak"
    var.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CHANRONG_ENV": os.environ.get("CHANRONG_ENV", "development"),
        "DJANGO_SETTINGS_MODULE": "chanrong.settings",
        "CHANRONG_AUDIT_ANCHORS": str(var / "audit-anchors.jsonl"),
        "CHANRONG_WEBHOOK_ALLOW_PRIVATE": "1",
    }
    create_database(url)
    print("preparing: migrate, refdata, demo ...", flush=True)
    run([*CHANRONG, "migrate", "--noinput", "-v", "0"], env)
    run([*CHANRONG, "refdata", "load"], env)
    run([*CHANRONG, "demo", "--scale", str(args.scale)], env)
    analyse(url)
    tokens = {}
    for username in (*ENTERPRISES, *INSTITUTIONS):
        out = run([*CHANRONG, "token", "create", username, "--name", "soak"], env)
        tokens[username] = out.strip().splitlines()[-1].strip()

    from _machine import machine_info

    for line in machine_info():
        print(line)
    receiver = Receiver()
    port = free_port()
    log_path = var / "serve.log"
    serve = subprocess.Popen(  # noqa: S603
        [*CHANRONG, "serve", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env={**env, "CHANRONG_MAX_REQUESTS": "0"},
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    events: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            status, _b, _s = Client(port, None).call("GET", "/api/v1/health")
            if status == 200:
                break
            time.sleep(0.5)
        else:
            sys.exit(f"the platform did not answer within 90 s (see {log_path})")
        for username in ("bank_manager",):
            status, body, _s = Client(port, tokens[username]).call(
                "POST",
                "/api/v1/webhooks",
                {
                    "url": f"http://127.0.0.1:{receiver.port}/hook",
                    "events": ["dispatch.created", "demand.status_changed"],
                    "description": "soak",
                },
            )
            if status != 201:
                sys.exit(f"could not register the webhook endpoint: {status} {body[:300]!r}")
        time.sleep(5)  # every process started
        stats = Stats()
        clients = max(2, min(args.clients, 200))
        stop_at = time.monotonic() + args.minutes * 60
        threads = []
        for i in range(clients):
            if i % 2 == 0:
                user = ENTERPRISES[(i // 2) % len(ENTERPRISES)]
                target = enterprise_loop
            else:
                user = INSTITUTIONS[(i // 2) % len(INSTITUTIONS)]
                target = institution_loop
            client = Client(port, tokens[user])
            threads.append(threading.Thread(target=target, args=(client, stats, stop_at, i)))
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        # "Start" memory after a minute of the workload, when every web
        # process has imported and cached what serving it takes (measured
        # right after boot, a gunicorn worker that has served nothing yet
        # reads 40 MiB lower and its growth says nothing about leaks).
        time.sleep(min(60, args.minutes * 60 / 5))
        start_mem = memory(serve.pid)
        chaos_found: dict = {}
        if args.chaos:
            chaos_found = chaos(url, serve.pid, receiver, env, events)
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        end_mem = memory(serve.pid)
        due_at_stop, deferred_at_stop = queued(url)
        drain_until = time.monotonic() + args.drain
        while time.monotonic() < drain_until:
            due, deferred = queued(url)
            pending = sql(
                url,
                "SELECT count(*) FROM api_webhookdelivery WHERE status IN ('pending', 'failed')",
            )[0][0]
            if due == 0 and pending == 0:
                break
            time.sleep(5)
        due_after, deferred_after = queued(url)
        deliveries = dict(
            sql(url, "SELECT status, count(*) FROM api_webhookdelivery GROUP BY status")
        )
        delivered_ids = {
            str(r[0])
            for r in sql(url, "SELECT id FROM api_webhookdelivery WHERE status = 'succeeded'")
        }
        received = set(receiver.seen)
        failed_tasks = sql(
            url,
            "SELECT task_path, count(*) FROM django_tasks_database_dbtaskresult "
            "WHERE status = 'FAILED' AND enqueued_at >= to_timestamp(%s) GROUP BY 1",
            (time.time() - elapsed - 600,),
        )
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGINT)
            try:
                serve.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(serve.pid, signal.SIGKILL)

    total = sum(len(v) for v in stats.latencies.values())
    everything = [x for v in stats.latencies.values() for x in v]
    print()
    print(
        f"{clients} clients for {elapsed:.0f} s against `chanrong serve` (gunicorn + worker + "
        f"scheduler) on 127.0.0.1:{port}, database {url.rsplit('/', 1)[1]}, demo scale {args.scale}"
    )
    print(
        f"requests {total:,} ({total / elapsed:.1f}/s); errors {sum(stats.errors.values())} "
        f"{stats.errors or ''}; contention (409, expected) {stats.contention}"
    )
    print(f"all steps: p50 {pct(everything, 0.5):.0f} ms, p99 {pct(everything, 0.99):.0f} ms")
    for label, values in sorted(stats.latencies.items()):
        print(
            f"  {label:<16}{len(values):>8}  p50 {pct(values, 0.5):>7.0f} ms  "
            f"p99 {pct(values, 0.99):>7.0f} ms"
        )
    print("memory (RSS MiB) per process, after the first minute of load → end:")
    for pid, (name, mib) in sorted(start_mem.items(), key=lambda kv: kv[1][0]):
        end = end_mem.get(pid)
        if end is None:
            print(f"  {name:<11} pid {pid:<7} {mib:7.1f} → (gone: restarted or recycled)")
        else:
            growth = (end[1] - mib) / mib * 100 if mib else 0.0
            print(f"  {name:<11} pid {pid:<7} {mib:7.1f} → {end[1]:7.1f}  ({growth:+.0f} %)")
    for pid, (name, mib) in end_mem.items():
        if pid not in start_mem:
            print(f"  {name:<11} pid {pid:<7} (new) → {mib:7.1f}")
    print(
        f"tasks waiting when the load stopped: {due_at_stop} due, {deferred_at_stop} deferred; "
        f"after draining: {due_after} due, {deferred_after} deferred"
    )
    print(f"failed tasks in the run: {dict(failed_tasks) or 0}")
    print(
        f"webhook deliveries by status: {deliveries}; succeeded but never received: "
        f"{len(delivered_ids - received)}; received twice or more: "
        f"{sum(1 for n in receiver.seen.values() if n > 1)}"
    )
    if args.chaos:
        for line in events:
            print(line)
        rematch = task_status(
            url, "chanrong.matching.tasks.rematch_all", chaos_found.get("rematch_since", 0)
        )
        print(f"re-match task(s) since the kill: {rematch}")
    print(f"(supervisor log: {log_path})")


if __name__ == "__main__":
    main()
