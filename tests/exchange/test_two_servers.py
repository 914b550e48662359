"""Two real deployments on loopback: two gunicorn servers, each with its own
database (SQLite: two files; PostgreSQL: two databases copied from the test
database), 嘉兴市 as the parent and 嘉善县 as the child. The child registers
with a one-time code over HTTP, pushes a month's batches and gets them
acknowledged; both delivery logs show them (read through each server's
API); the same bytes sent again are refused as `replayed`, an altered copy
as `tampered`, and the parent stores nothing of either.

One module-scoped pair of servers; each step is one child process (a
`chanrong shell`) on the side it concerns."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.ops.procs import ROOT, child_env, django_json, wait_for

# Marked so that pytest-django sets the test database up when this module runs
# alone (the fixture copies it); the test itself reads no row in-process.
pytestmark = pytest.mark.django_db

SETUP = """
from chanrong.accounts.models import Role, User
from chanrong.accounts.services.tokens import create_token
from chanrong.core import refdata
from chanrong.exchange.services import identity
if not refdata.is_loaded():
    refdata.load_all()
admin = User.objects.filter(username="admin").first() or User.objects.create(
    username="admin", role=Role.PLATFORM_ADMIN, is_active=True)
me = identity.ensure(name={name!r}, region_code={region!r}, base_url={url!r})
out = {{"token": create_token(None, admin, "exchange-test").raw, "id": str(me.deployment_id)}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own server
            return response.status == 200
    except OSError:
        return False


def _databases(tmp: Path) -> tuple[str, str, list[str]]:
    """Two database URLs and the PostgreSQL databases to drop afterwards."""
    if connection.vendor == "sqlite":
        # The session's test database (migrated, reference data loaded),
        # copied twice through SQLite's online backup: no second migration.
        import sqlite3

        connection.ensure_connection()
        urls = []
        for name in ("a", "b"):
            target = tmp / f"{name}.sqlite3"
            with sqlite3.connect(target) as copy:
                connection.connection.backup(copy)
            urls.append(f"sqlite:///{target}")
        return urls[0], urls[1], []
    import psycopg

    settings = connection.settings_dict
    test_db = settings["NAME"]
    names = [f"{test_db}_peer_a", f"{test_db}_peer_b"]
    connection.close()  # a template must have no other session
    dsn = f"host={settings['HOST']} port={settings['PORT'] or 5432} user={settings['USER']} dbname=postgres"
    if settings.get("PASSWORD"):
        dsn += f" password={settings['PASSWORD']}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{test_db}"')
    base = "postgres://{USER}@{HOST}:{PORT}/".format(
        **{k: settings[k] or "" for k in ("USER", "HOST", "PORT")}
    )
    return base + names[0], base + names[1], [dsn, *names]


@pytest.fixture(scope="module")
def servers(tmp_path_factory, django_db_setup, django_db_blocker):
    tmp = tmp_path_factory.mktemp("exchange-two")
    with django_db_blocker.unblock():
        url_a, url_b, drop = _databases(tmp)
    sides, processes = {}, []
    try:
        for name, url, region, title in (
            ("parent", url_a, "330400", "嘉兴市产融合作平台"),
            ("child", url_b, "330421", "嘉善县产融合作平台"),
        ):
            port = _free_port()
            env = child_env(
                tmp / name,
                url,
                CHANRONG_PORT=str(port),
                CHANRONG_WORKERS="1",
                CHANRONG_THREADS="2",
                CHANRONG_GUNICORN_LOG_LEVEL="warning",
            )
            (tmp / name).mkdir(exist_ok=True)
            base = f"http://127.0.0.1:{port}"
            setup = django_json(env, SETUP.format(name=title, region=region, url=base))
            gunicorn = Path(sys.executable).with_name("gunicorn")
            processes.append(
                subprocess.Popen(
                    [str(gunicorn), "-c", str(ROOT / "chanrong" / "gunicorn.conf.py")],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
            sides[name] = {"env": env, "base": base, **setup}
        for side in sides.values():
            wait_for(lambda side=side: _answers(side["base"] + "/api/v1/health"), what="a server")
        yield sides
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        if drop:
            import psycopg

            with psycopg.connect(drop[0], autocommit=True) as admin:
                for name in drop[1:]:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _api(side: dict, path: str) -> dict:
    request = urllib.request.Request(
        side["base"] + path, headers={"Authorization": f"Bearer {side['token']}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own server
        return json.loads(response.read())


def _push(side: dict, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - our own server
        side["base"] + "/api/v1/exchange/batches",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_register_push_acknowledge_and_refuse_a_replay_and_a_tampered_batch(servers):
    parent, child = servers["parent"], servers["child"]
    code = django_json(
        parent["env"],
        "from chanrong.accounts.models import User\n"
        "from chanrong.exchange.services import peers\n"
        "out = peers.issue_code(User.objects.get(username='admin'), region_code='330421')[1]",
    )
    pushed = django_json(
        child["env"],
        "from chanrong.accounts.models import User\n"
        "from chanrong.exchange.services import outbox, peers\n"
        "from chanrong.exchange.models import OutboundBatch\n"
        f"peer = peers.register_with_parent(User.objects.get(username='admin'), "
        f"parent_url={parent['base']!r}, code={code!r})\n"
        "outbox.queue_period('2026-10')\n"
        "counts = outbox.deliver(peer.pk)\n"
        "out = {'counts': counts, 'parent': str(peer.deployment_id),\n"
        "       'body': OutboundBatch.objects.get(sequence=1).body}",
    )
    assert pushed["parent"] == parent["id"]  # the parent's key and id pinned
    assert pushed["counts"] == {"delivered": 2, "refused": 0, "failed": 0}

    sent = _api(child, "/api/v1/exchange/outbound")
    assert sent["count"] == 2
    assert {row["state"] for row in sent["results"]} == {"delivered"}
    received = _api(parent, "/api/v1/exchange/inbound")
    assert sorted(row["sequence"] for row in received["results"]) == [1, 2]
    assert {row["peer"] for row in received["results"]} == {"嘉善县产融合作平台"}
    figures = _api(parent, "/api/v1/exchange/received-figures?region=330421")
    assert figures["count"] > 0
    assert {row["source_deployment_id"] for row in figures["results"]} == {child["id"]}

    body = pushed["body"].encode()
    status, answer = _push(parent, body)
    assert (status, answer["code"]) == (409, "replayed")
    document = json.loads(body)
    document["period"] = "2026-09"  # altered after signing
    status, answer = _push(parent, json.dumps(document, ensure_ascii=False).encode())
    assert (status, answer["code"]) == (401, "tampered")
    after = django_json(
        parent["env"],
        "from chanrong.exchange.models import InboundBatch, Refusal\n"
        "out = {'batches': InboundBatch.objects.count(),\n"
        "       'refusals': list(Refusal.objects.order_by('pk').values_list('code', flat=True))}",
    )
    assert after == {"batches": 2, "refusals": ["replayed", "tampered"]}
