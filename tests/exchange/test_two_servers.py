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
                # Both servers are on 127.0.0.1: peers on loopback are refused
                # unless this is set (chanrong.exchange.services.safeurl).
                CHANRONG_EXCHANGE_ALLOW_LOOPBACK="1",
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


@pytest.fixture(scope="module")
def registered(servers):
    """The child registered with the parent (once per pair of servers) by a
    one-time code over HTTP."""
    parent, child = servers["parent"], servers["child"]
    if "parent_peer" not in child:
        code = django_json(
            parent["env"],
            "from chanrong.accounts.models import User\n"
            "from chanrong.exchange.services import peers\n"
            "out = peers.issue_code(User.objects.get(username='admin'), region_code='330421')[1]",
        )
        child["parent_peer"] = django_json(
            child["env"],
            "from chanrong.accounts.models import User\n"
            "from chanrong.exchange.services import peers\n"
            f"peer = peers.register_with_parent(User.objects.get(username='admin'), "
            f"parent_url={parent['base']!r}, code={code!r})\n"
            "out = str(peer.deployment_id)",
        )
    return servers


def test_register_push_acknowledge_and_refuse_a_replay_and_a_tampered_batch(registered):
    parent, child = registered["parent"], registered["child"]
    pushed = django_json(
        child["env"],
        "from chanrong.exchange.services import outbox\n"
        "from chanrong.exchange.models import OutboundBatch, Peer\n"
        "peer = Peer.objects.get(role='parent')\n"
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
    assert after["refusals"] == ["replayed", "tampered"]
    assert after["batches"] == 2


ENTERPRISE = """
from decimal import Decimal
from chanrong.core.codes import make_uscc
from chanrong.registry.models import Enterprise
from chanrong.registry.services import compute_size
e = Enterprise(uscc=make_uscc("91330421000000077"), name="嘉善失信样例有限公司",
               region_id="330421", industry_id="C34", employees=80,
               revenue=Decimal("20000000.00"), assets=Decimal("30000000.00"))
e.size = compute_size(e)
e.save()
out = e.uscc
"""

PUBLISH_DOWN = """
from datetime import date
from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency
from chanrong.exchange.models import OutboundBatch, Peer
from chanrong.exchange.services import identity, outbox
from chanrong.registry.models import Enterprise, EnterpriseList, ListEntry, ListVersion
agency = GovernmentAgency.objects.create(name="嘉兴市信用办", level=AgencyLevel.MUNICIPAL,
                                         function=AgencyFunction.OTHER, region_id="330400")
lst = EnterpriseList.objects.create(list_type="black", name="嘉兴市失信黑名单",
                                    agency=agency, region_id="330400")
version = ListVersion.objects.create(list=lst, number=1)
ListEntry.objects.create(version=version, enterprise=Enterprise.objects.get(uscc={uscc!r}),
                         change="added")
ListVersion.objects.filter(pk=version.pk).update(status="published",
                                                 effective_from=date(2026, 11, 1))
child = Peer.objects.get(role="child")
built = outbox.queue_lists_for_children(identity.ensure())
counts = outbox.deliver(child.pk)
batch = OutboundBatch.objects.get(peer=child, kind="list_version")
out = {{"built": len(built), "counts": counts, "state": batch.state,
        "batch_id": str(batch.batch_id)}}
"""

CHILD_USES_IT = """
from datetime import date
from chanrong.exchange.models import InboundBatch, Refusal
from chanrong.finance.eligibility import ProductConditions, evaluate
from chanrong.finance.services import enterprise_facts
from chanrong.registry.models import Enterprise, ListVersion
today = date(2026, 12, 1)
version = ListVersion.objects.get(list__source_deployment="嘉兴市产融合作平台")
black = ProductConditions("credit", exclude_blacklisted=True)
result = evaluate(black, enterprise_facts(Enterprise.objects.get(uscc={uscc!r}), today=today),
                  today=today)
batch = InboundBatch.objects.get(kind="list_version")
out = {{"status": version.status, "source_batch": version.source_batch,
        "eligible": result.eligible, "messages": result.messages,
        "inbound": [batch.peer.role, str(batch.batch_id)],
        "refusals": Refusal.objects.count()}}
"""


def test_the_parent_pushes_a_blacklist_down_and_the_childs_eligibility_uses_it(registered):
    """Down the tree between two live servers: 嘉兴's platform publishes a
    黑名单 version, queues it for 嘉善's (inside 嘉兴) and POSTs it to the
    child's address; the child verifies it with the pinned parent key, keeps
    it as a received list with its provenance, and refuses the listed
    enterprise in eligibility, naming the source."""
    parent, child = registered["parent"], registered["child"]
    uscc = django_json(parent["env"], ENTERPRISE)
    assert django_json(child["env"], ENTERPRISE) == uscc  # the same enterprise on both
    sent = django_json(parent["env"], PUBLISH_DOWN.format(uscc=uscc))
    assert sent["built"] == 1
    assert sent["counts"] == {"delivered": 1, "refused": 0, "failed": 0}
    assert sent["state"] == "delivered"
    used = django_json(child["env"], CHILD_USES_IT.format(uscc=uscc))
    assert used["inbound"] == ["parent", sent["batch_id"]]
    assert used["status"] == "published" and used["source_batch"] == sent["batch_id"]
    assert used["eligible"] is False
    assert "来源：嘉兴市产融合作平台" in used["messages"][0]
    assert used["refusals"] == 0
    # The child's delivery log, read through its API, shows the batch received.
    received = _api(child, "/api/v1/exchange/inbound")
    assert sent["batch_id"] in {row["batch_id"] for row in received["results"]}
