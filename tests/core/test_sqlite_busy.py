"""SQLite stays available while another process holds the write lock.

A real gunicorn serves a copy of the test database (a SQLite file, in WAL,
with the platform's own settings); a separate process opens a write
transaction on the same file (`BEGIN IMMEDIATE`, as a long import does) and
keeps it open while the test reads pages and the API over HTTP, and logs in.

- Reads never wait for the lock: the server is started with a lock wait far
  shorter than the reads take to walk, so a read that needed the lock would
  answer 503 and fail the test. A token whose last use is due to be written
  and a session whose sliding expiry is due are among them: those writes are
  skipped while the database is busy and made by a later request.
- A login (it must write: a session, an audit entry, the last-login time)
  waits for the lock and succeeds once it is released.
- A write that cannot get the lock in time answers 503 with Retry-After, a
  page for the browser and the API's error shape for the API, never a 500.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

from chanrong.accounts import services as accounts
from chanrong.accounts.models import ApiToken
from chanrong.core.context_processors import nav_entries
from tests.conftest import PASSWORD

pytestmark = pytest.mark.sqlite("SQLite's single writer is what is tested")

ROOT = Path(__file__).resolve().parents[2]

# Holds the write lock from another process until told to let go.
HOLDER = r"""
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE registry_enterprise SET employees = employees")
print("locked", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
print("released", flush=True)
"""


class LockHolder:
    def __init__(self, path: Path):
        self.path = path
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "locked"
        self.assert_held()

    def assert_held(self) -> None:
        """Another connection that will not wait cannot start a write."""
        probe = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                probe.execute("BEGIN IMMEDIATE")
        finally:
            probe.close()

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
            assert self.proc.stdout.readline().strip() == "released"
        self.proc.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with the platform's settings on a SQLite file."""

    def __init__(self, db_path: Path, var: Path, busy_timeout_ms: int):
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{db_path}",
            "CHANRONG_VAR_DIR": str(var),
            "CHANRONG_BIND": f"127.0.0.1:{port}",
            "CHANRONG_WORKERS": "1",
            "CHANRONG_THREADS": "8",
            "CHANRONG_PLAIN_STATIC": "1",
            "CHANRONG_SQLITE_BUSY_TIMEOUT_MS": str(busy_timeout_ms),
            "CHANRONG_GUNICORN_LOG_LEVEL": "warning",
            "CHANRONG_AUDIT_ANCHORS": str(var / "anchors.jsonl"),
        }
        env.pop("CHANRONG_ENV", None)
        self.log = (var / "gunicorn.log").open("w")
        self.proc = subprocess.Popen(  # noqa: S603
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "-c",
                str(ROOT / "chanrong" / "gunicorn.conf.py"),
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited: {(var / 'gunicorn.log').read_text()}")
            try:
                if requests.get(f"{self.url}/api/v1/health", timeout=60).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("gunicorn did not start")
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def login_page(url: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{url}/accounts/login/", timeout=120)
    assert page.status_code == 200
    return browser


def submit_login(browser: requests.Session, url: str, username: str) -> requests.Response:
    return browser.post(
        f"{url}/accounts/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": f"{url}/accounts/login/"},
        allow_redirects=False,
        timeout=120,
    )


def login(url: str, username: str) -> tuple[requests.Session, requests.Response]:
    browser = login_page(url)
    return browser, submit_login(browser, url, username)


@pytest.fixture
def site(transactional_db, world, tmp_path):
    """A SQLite file holding the world, a token whose last use is due, and
    a factory for servers on it."""
    issued = {
        name: accounts.create_token(None, world.user(name), "busy test")
        for name in ("bank_staff", "ent_user")
    }
    due = datetime.now(UTC) - timedelta(minutes=5)
    ApiToken.objects.filter(pk__in=[i.token.pk for i in issued.values()]).update(last_used_at=due)
    db_path = tmp_path / "site.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(db_path)
    connection.connection.backup(target)
    target.execute("PRAGMA journal_mode=WAL")
    target.close()
    var = tmp_path / "var"
    var.mkdir()
    servers: list[Server] = []

    def serve(busy_timeout_ms: int) -> Server:
        server = Server(db_path, var, busy_timeout_ms)
        servers.append(server)
        return server

    yield {"db": db_path, "tokens": {k: v.raw for k, v in issued.items()}, "serve": serve}
    for server in servers:
        server.stop()


def _last_used(db_path: Path, raw: str) -> str | None:
    db = sqlite3.connect(db_path)
    try:
        row = db.execute(
            "SELECT last_used_at FROM accounts_apitoken WHERE token_hash = ?",
            [accounts.hash_token(raw)],
        ).fetchone()
    finally:
        db.close()
    return row[0]


def _age_sessions(db_path: Path) -> None:
    """Make every stored session's sliding expiry due to be moved forward."""
    earlier = datetime.now(UTC) + timedelta(seconds=settings.SESSION_COOKIE_AGE - 600)
    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        db.execute(
            "UPDATE django_session SET expire_date = ?",
            [earlier.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")],
        )
    finally:
        db.close()


def test_reads_never_wait_for_the_writer_and_a_blocked_write_answers_503(site, world):
    # A lock wait far shorter than the walk below: any read that needed the
    # lock would wait for it in vain and answer 503.
    server = site["serve"](busy_timeout_ms=200)
    url = server.url
    walkers = {}
    for name in ("admin", "gov_jiashan", "bank_manager", "ent_user"):
        walkers[name], response = login(url, name)
        assert response.status_code == 302
    _age_sessions(site["db"])
    token = site["tokens"]["bank_staff"]
    before = _last_used(site["db"], token)
    anonymous = requests.Session()

    holder = LockHolder(site["db"])
    try:
        # The API with a token whose last use is due.
        for path in (
            "/api/v1/enterprises",
            "/api/v1/institutions",
            "/api/v1/regions?level=province",
        ):
            response = requests.get(
                f"{url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=120
            )
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
        # Every menu page of four roles, with sessions whose expiry is due.
        for name, browser in walkers.items():
            entries = [(key, path) for key, _label, path in nav_entries(world.user(name))]
            assert len(entries) > 3
            for key, path in entries:
                if key == "admin":
                    continue
                response = browser.get(f"{url}{path}", timeout=120, allow_redirects=False)
                assert response.status_code == 200, (name, path, response.status_code)
            # Still that user: the session was neither lost nor replaced.
            assert browser.get(f"{url}/api/v1/demands", timeout=120).status_code == 200
        # The login page itself.
        assert anonymous.get(f"{url}/accounts/login/", timeout=120).status_code == 200
        holder.assert_held()
        assert _last_used(site["db"], token) == before  # skipped, not waited for

        # Writes that must happen and cannot get the lock in time: 503, not 500.
        _browser, refused = login(url, "ent2_user")
        assert refused.status_code == 503
        assert int(refused.headers["Retry-After"]) > 0
        assert "系统繁忙" in refused.text
        patch = requests.patch(
            f"{url}/api/v1/enterprises/{world.ent.pk}",
            json={"employees": 77},
            headers={"Authorization": f"Bearer {site['tokens']['ent_user']}"},
            timeout=120,
        )
        assert patch.status_code == 503
        assert int(patch.headers["Retry-After"]) > 0
        assert patch.json()["code"] == "busy"
        holder.assert_held()
    finally:
        holder.release()

    # Once the writer is done: the skipped write is made by the next request,
    # and the refused login and change go through on retry.
    response = requests.get(
        f"{url}/api/v1/enterprises", headers={"Authorization": f"Bearer {token}"}, timeout=120
    )
    assert response.status_code == 200
    assert _last_used(site["db"], token) != before
    assert login(url, "ent2_user")[1].status_code == 302
    patch = requests.patch(
        f"{url}/api/v1/enterprises/{world.ent.pk}",
        json={"employees": 77},
        headers={"Authorization": f"Bearer {site['tokens']['ent_user']}"},
        timeout=120,
    )
    assert patch.status_code == 200, patch.text


def test_a_login_waits_for_the_writer_and_succeeds(site, world):
    server = site["serve"](busy_timeout_ms=30000)
    url = server.url
    browser = login_page(url)
    holder = LockHolder(site["db"])
    outcome: dict[str, requests.Response] = {}
    thread = threading.Thread(
        target=lambda: outcome.setdefault("login", submit_login(browser, url, "ent_user"))
    )
    try:
        thread.start()
        # The login is sent while the lock is held; it cannot finish before
        # the release (it writes a session and an audit entry).
        time.sleep(1)
        holder.assert_held()
        assert "login" not in outcome
    finally:
        holder.release()
    thread.join(timeout=120)
    assert outcome["login"].status_code == 302
    home = browser.get(f"{url}/", timeout=120)
    assert home.status_code == 200
    assert "ent_user" in home.text
    db = sqlite3.connect(site["db"])
    try:
        audited = db.execute(
            "SELECT count(*) FROM core_auditentry WHERE action = 'auth.login' AND actor_name = ?",
            ["ent_user"],
        ).fetchone()[0]
    finally:
        db.close()
    assert audited == 1
