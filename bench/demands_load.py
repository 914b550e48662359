#!/usr/bin/env python
"""Demands under load: gunicorn + PostgreSQL on loopback, C concurrent clients.

Prepares a PostgreSQL database (migrate, refdata, `chanrong demo --scale S`),
creates API tokens with `chanrong token create`, starts gunicorn
(chanrong/gunicorn.conf.py) on a free 127.0.0.1 port, and drives C client
threads (http.client, keep-alive), each making N requests, against:

  ceiling   GET  /api/v1/health                 (trivial JSON, same stack)
  publish   POST /api/v1/demands + POST /api/v1/demands/{id}/publish
            (as the demo enterprise users; each pair is one "publish")
  list      GET  /api/v1/dispatches             (as a demo institution user)
  floor     GET  /api/v1/demands/2000000000     (404: the token check and one
            indexed lookup, nothing else; what any authenticated API call costs)

and prints requests per second, p50 and p99 per scenario beside the ceiling,
with the ratio.

A saturated closed loop measures throughput, but its latencies are queueing
(issue 20). So, with `--open-loop S`, each scenario is then driven again for
S seconds as an *open* loop: requests arrive at random (Poisson) times at
half the rate that scenario reached saturated, whatever the server is doing,
and each latency runs from the moment the request was due, not from when a
free client sent it (no coordinated omission). A pool of client threads
large enough that arrivals never wait for a client carries them. Issue 20's
targets for that load: p99 <= 150 ms for floor and list, <= 500 ms for
publish (create + publish, measured as the pair). Prints figures; asserts
nothing. Stops gunicorn at the end.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_demands \\
        .venv/bin/python bench/demands_load.py --clients 50 --requests 40 --open-loop 60
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHANRONG = [str(ROOT / ".venv" / "bin" / "chanrong")]
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bench_demands"
ENTERPRISE_USERS = ("ent_user", "ent2_user")
INSTITUTION_USER = "bank_staff"
IDLE_CLOSE = 1.0  # seconds: below gunicorn's keep-alive timeout (chanrong/gunicorn.conf.py)


def run(cmd: list[str], env: dict, timeout: int = 1800) -> str:
    done = subprocess.run(
        cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def create_database(url: str) -> None:
    """Drop and create the benchmark database (never anything else)."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    if not name.startswith("bench"):
        sys.exit("refusing to recreate a database whose name does not start with 'bench'")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def prepare(env: dict, scale: float) -> dict[str, str]:
    print("preparing: migrate, refdata, demo ...", flush=True)
    started = time.perf_counter()
    run([*CHANRONG, "migrate", "--noinput", "-v", "0"], env)
    run([*CHANRONG, "refdata", "load"], env)
    run([*CHANRONG, "demo", "--scale", str(scale)], env)
    analyse(env["DATABASE_URL"])
    tokens = {}
    for username in (*ENTERPRISE_USERS, INSTITUTION_USER):
        out = run([*CHANRONG, "token", "create", username, "--name", "bench"], env)
        token = next(w for w in out.split() if w.startswith("crt_"))
        tokens[username] = token
    print(f"prepared in {time.perf_counter() - started:.0f} s", flush=True)
    return tokens


def analyse(url: str) -> None:
    """Planner statistics for the freshly loaded demo, as autovacuum would
    gather them on a database in service (bulk-loaded tables have none yet)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict, port: int) -> subprocess.Popen:
    env = {**env, "CHANRONG_BIND": f"127.0.0.1:{port}", "CHANRONG_MAX_REQUESTS": "0"}
    log = open(ROOT / "var" / "bench_demands_gunicorn.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [GUNICORN, "-c", "chanrong/gunicorn.conf.py", "--access-logfile", "/dev/null"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    stop(proc)
    sys.exit("gunicorn did not answer within 60 s (see var/bench_demands_gunicorn.log)")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


class Client:
    def __init__(self, port: int, token: str | None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.used = time.perf_counter()
        self.headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, float]:
        data = json.dumps(body).encode() if body is not None else None
        started = time.perf_counter()
        if started - self.used > IDLE_CLOSE:
            # gunicorn closes a keep-alive connection idle for a few seconds
            # (an open loop's thread can wait that long between arrivals):
            # start a new one rather than send on a closed socket.
            self.conn.close()
        self.used = started
        try:
            self.conn.request(method, path, body=data, headers=self.headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            return 0, b"", time.perf_counter() - started
        return response.status, payload, time.perf_counter() - started


class Scenario:
    def __init__(self, name: str):
        self.name = name
        self.latencies: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.requests = 0
        self.elapsed = 0.0
        self.offered = 0.0
        self.dispatcher_late = 0.0
        self.lock = threading.Lock()

    def add(self, label: str, status: int, expected: int, seconds: float) -> bool:
        with self.lock:
            self.requests += 1
            self.latencies.setdefault(label, []).append(seconds)
            if status != expected:
                key = f"{label}:{status}"
                self.errors[key] = self.errors.get(key, 0) + 1
                return False
        return True


def drive(name: str, clients: int, per_client: int, make_client, step, budget: float) -> Scenario:
    scenario = Scenario(name)
    stop_at = time.monotonic() + budget
    barrier = threading.Barrier(clients + 1)

    def worker(index: int) -> None:
        client = make_client(index)
        barrier.wait()
        for i in range(per_client):
            if time.monotonic() > stop_at:
                break
            step(client, scenario, index, i)
        client.conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    scenario.elapsed = time.perf_counter() - started
    return scenario


def open_loop(
    name: str, rate: float, seconds: float, make_client, step, pool: int, seed: int = 20
) -> Scenario:
    """Poisson arrivals at `rate` per second for `seconds`; `step(client,
    scenario, index, i, due)` records latencies from `due` (perf_counter)."""
    scenario = Scenario(name)
    rng = random.Random(seed)
    due_times: list[float] = []
    t = 0.0
    while True:
        t += rng.expovariate(rate)
        if t > seconds:
            break
        due_times.append(t)
    work: queue.Queue = queue.Queue()
    late = [0.0]  # the dispatcher's worst delay in handing out an arrival

    def worker(index: int) -> None:
        client = make_client(index)
        while (item := work.get()) is not None:
            i, due = item
            step(client, scenario, index, i, due)
        client.conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(pool)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    for i, offset in enumerate(due_times):
        due = started + offset
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        else:
            late[0] = max(late[0], -pause)
        work.put((i, due))
    for _thread in threads:
        work.put(None)
    for thread in threads:
        thread.join()
    scenario.elapsed = time.perf_counter() - started
    scenario.offered = len(due_times) / seconds
    scenario.dispatcher_late = late[0]
    return scenario


def demand_body(index: int, i: int) -> dict:
    return {
        "kind": "debt",
        "amount_wan": 50 + (index * 37 + i * 11) % 900,
        "term_months": 12,
        "purpose": f"压测：购置设备 {index}-{i}",
        "rate_max": "6",
        "collateral_offered": [],
        "urgency": "normal",
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k] * 1000


def report(ceiling: Scenario, others: list[Scenario]) -> None:
    ceiling_rps = ceiling.requests / ceiling.elapsed if ceiling.elapsed else 0.0
    print()
    header = (
        f"{'scenario':<22}{'requests':>9}{'RPS':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs ceiling':>12}"
    )
    print(header)
    print("-" * len(header))
    for scenario in [ceiling, *others]:
        rps = scenario.requests / scenario.elapsed if scenario.elapsed else 0.0
        everything = [v for values in scenario.latencies.values() for v in values]
        ratio = f"{rps / ceiling_rps * 100:.0f} %" if ceiling_rps else "—"
        print(
            f"{scenario.name:<22}{scenario.requests:>9}{rps:>9.1f}"
            f"{pct(everything, 0.5):>9.1f}{pct(everything, 0.99):>9.1f}{ratio:>12}"
        )
        if len(scenario.latencies) > 1:
            for label, values in scenario.latencies.items():
                print(
                    f"  {label:<20}{len(values):>9}{'':>9}"
                    f"{pct(values, 0.5):>9.1f}{pct(values, 0.99):>9.1f}"
                )
        if scenario.errors:
            print(f"  unexpected answers: {scenario.errors}")
    print()
    print("issue 4's old target: >= 50 % of the ceiling's RPS and p99 <= 150 ms (figures only)")


OPEN_TARGETS = {"floor": 150.0, "list": 150.0, "publish": 500.0}


def report_open(rows: list[tuple[str, float, Scenario]]) -> None:
    """`rows`: (target key, saturated rate, open-loop scenario)."""
    print()
    print("open loop: Poisson arrivals at half the saturated rate; latency from the due time")
    header = (
        f"{'scenario':<22}{'saturated/s':>12}{'offered/s':>10}{'done':>7}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'target p99':>12}"
    )
    print(header)
    print("-" * len(header))
    for key, saturated, scenario in rows:
        values = scenario.latencies.get(key, [])
        print(
            f"{scenario.name:<22}{saturated:>12.1f}{scenario.offered:>10.1f}{len(values):>7}"
            f"{pct(values, 0.5):>9.1f}{pct(values, 0.99):>9.1f}"
            f"{(max(values) * 1000 if values else float('nan')):>9.1f}"
            f"{'<= ' + format(OPEN_TARGETS[key], '.0f') + ' ms':>12}"
        )
        for label, other in scenario.latencies.items():
            if label != key:
                print(f"  {label:<20}{'':>29}{pct(other, 0.5):>9.1f}{pct(other, 0.99):>9.1f}")
        if scenario.errors:
            print(f"  unexpected answers: {scenario.errors}")
        if scenario.dispatcher_late > 0.01:
            print(f"  (the load generator was up to {scenario.dispatcher_late * 1000:.0f} ms late)")


def rate_of(scenario: Scenario, per_step: int = 1) -> float:
    return scenario.requests / per_step / scenario.elapsed if scenario.elapsed else 0.0


def run_open_loop(args, port: int, tokens: dict, floor, publish, listing) -> None:
    def since(due: float) -> float:
        return time.perf_counter() - due

    def floor_step(client, scenario, index, i, due):
        status, _body, _seconds = client.call("GET", "/api/v1/demands/2000000000")
        scenario.add("floor", status, 404, since(due))

    def list_step(client, scenario, index, i, due):
        status, _body, _seconds = client.call("GET", "/api/v1/dispatches")
        scenario.add("list", status, 200, since(due))

    def publish_step(client, scenario, index, i, due):
        status, body, seconds = client.call("POST", "/api/v1/demands", demand_body(index, i))
        if status != 201:
            scenario.add("publish", status, 201, since(due))
            return
        pk = json.loads(body)["id"]
        status, _body, alone = client.call("POST", f"/api/v1/demands/{pk}/publish")
        scenario.add("publish", status, 200, since(due))
        with scenario.lock:
            scenario.latencies.setdefault("create alone", []).append(seconds)
            scenario.latencies.setdefault("publish alone", []).append(alone)

    def enterprise_client(i):
        return Client(port, tokens[ENTERPRISE_USERS[i % len(ENTERPRISE_USERS)]])

    rows = []
    for key, closed, per_step, make_client, step in (
        ("floor", floor, 1, enterprise_client, floor_step),
        ("list", listing, 1, lambda i: Client(port, tokens[INSTITUTION_USER]), list_step),
        ("publish", publish, 2, enterprise_client, publish_step),
    ):
        saturated = rate_of(closed, per_step)
        scenario = open_loop(
            f"{key} (open loop)", saturated / 2, args.open_loop, make_client, step, args.pool
        )
        rows.append((key, saturated, scenario))
    report_open(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40, help="requests per client (max 1000)")
    parser.add_argument("--scale", type=float, default=0.1, help="demo scale")
    parser.add_argument("--budget", type=float, default=120, help="seconds per scenario at most")
    parser.add_argument(
        "--open-loop",
        type=float,
        default=0,
        metavar="SECONDS",
        help="then drive each scenario open-loop at half its saturated rate for SECONDS",
    )
    parser.add_argument("--pool", type=int, default=64, help="client threads of the open loop")
    parser.add_argument("--skip-prepare", action="store_true", help="reuse the prepared database")
    parser.add_argument("--tokens", help="with --skip-prepare: JSON file of tokens by username")
    args = parser.parse_args()
    clients = max(1, min(args.clients, 200))
    per_client = max(1, min(args.requests, 1000))

    url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must be a PostgreSQL URL")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CHANRONG_ENV": os.environ.get("CHANRONG_ENV", "development"),
        "DJANGO_SETTINGS_MODULE": "chanrong.settings",
        # 50 clients share two tokens and one address: the limiter still runs
        # (its cost is part of every request) but must not answer 429.
        "CHANRONG_API_RATE_PER_TOKEN": "1000000/s burst 1000000",
        "CHANRONG_API_RATE_PER_ADDRESS": "1000000/s burst 1000000",
    }
    (ROOT / "var").mkdir(exist_ok=True)
    token_file = Path(args.tokens) if args.tokens else ROOT / "var" / "bench_demands_tokens.json"
    if args.skip_prepare:
        tokens = json.loads(token_file.read_text())
    else:
        create_database(url)
        tokens = prepare(env, args.scale)
        token_file.write_text(json.dumps(tokens))

    from _machine import machine_info

    for line in machine_info():
        print(line)
    port = free_port()
    proc = start_gunicorn(env, port)
    try:
        workers = os.environ.get("CHANRONG_WORKERS", "default")
        print(f"gunicorn on 127.0.0.1:{port} (workers {workers}); {clients} clients x "
              f"{per_client} requests; database {url.rsplit('/', 1)[1]}")  # fmt: skip

        def health_step(client, scenario, index, i):
            status, _body, seconds = client.call("GET", "/api/v1/health")
            scenario.add("health", status, 200, seconds)

        def publish_step(client, scenario, index, i):
            status, body, seconds = client.call("POST", "/api/v1/demands", demand_body(index, i))
            if not scenario.add("create", status, 201, seconds):
                return
            pk = json.loads(body)["id"]
            status, _body, seconds = client.call("POST", f"/api/v1/demands/{pk}/publish")
            scenario.add("publish", status, 200, seconds)

        def floor_step(client, scenario, index, i):
            status, _body, seconds = client.call("GET", "/api/v1/demands/2000000000")
            scenario.add("floor", status, 404, seconds)

        def list_step(client, scenario, index, i):
            status, _body, seconds = client.call("GET", "/api/v1/dispatches")
            scenario.add("list", status, 200, seconds)

        # Warm every worker's imports and connections before measuring.
        drive("warm-up", clients, 5, lambda i: Client(port, None), health_step, 30)
        ceiling = drive(
            "health (ceiling)",
            clients,
            per_client,
            lambda i: Client(port, None),
            health_step,
            args.budget,
        )
        floor = drive(
            "authenticated floor",
            clients,
            per_client,
            lambda i: Client(port, tokens[ENTERPRISE_USERS[i % len(ENTERPRISE_USERS)]]),
            floor_step,
            args.budget,
        )
        publish = drive(
            "publish demand",
            clients,
            max(1, per_client // 2),  # two requests per step
            lambda i: Client(port, tokens[ENTERPRISE_USERS[i % len(ENTERPRISE_USERS)]]),
            publish_step,
            args.budget,
        )
        listing = drive(
            "list dispatches",
            clients,
            per_client,
            lambda i: Client(port, tokens[INSTITUTION_USER]),
            list_step,
            args.budget,
        )
        report(ceiling, [floor, publish, listing])
        if args.open_loop > 0:
            run_open_loop(args, port, tokens, floor, publish, listing)
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
