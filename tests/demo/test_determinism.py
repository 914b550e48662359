"""Same seed and scale => the same world; rebuilds are clean; refusals are clear."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from chanrong.accounts.models import Role, User
from chanrong.core import audit
from chanrong.core.errors import Conflict, ValidationFailed
from chanrong.core.models import AuditEntry, Region
from chanrong.demo import services
from chanrong.registry.models import Enterprise

from .conftest import PASSWORD, SMALL

pytestmark = pytest.mark.django_db


def test_same_seed_and_scale_give_the_same_world(refdata_loaded, demo_password):
    day = date(2026, 6, 15)  # and the same build day
    first = services.build_demo(seed=5, scale=SMALL, today=day)
    first_rows = list(Enterprise.objects.order_by("uscc").values_list("uscc", "name", "size"))
    second = services.build_demo(seed=5, scale=SMALL, today=day, reset=True)
    assert second.reset
    assert second.digest == first.digest == services.compute_digest()
    assert list(Enterprise.objects.order_by("uscc").values_list("uscc", "name", "size")) == (
        first_rows
    )


def test_another_seed_gives_another_world(refdata_loaded, demo_password):
    first = services.build_demo(seed=5, scale=SMALL)
    names = set(Enterprise.objects.values_list("name", flat=True))
    other = services.build_demo(seed=6, scale=SMALL, reset=True)
    assert other.digest != first.digest
    assert names != set(Enterprise.objects.values_list("name", flat=True))
    # ... but with the same accounts.
    assert set(User.objects.values_list("username", flat=True)) >= {"admin", "ent_user"}


def test_rebuild_keeps_reference_data_and_the_audit_chain(refdata_loaded, demo_password):
    regions = Region.objects.count()
    services.build_demo(seed=1, scale=SMALL)
    services.build_demo(seed=1, scale=SMALL, reset=True)
    assert Region.objects.count() == regions
    # Builders that go through audited services (the indicator plan) add their
    # own entries; the demo's own record is build, reset, build.
    actions = [
        a
        for a in AuditEntry.objects.order_by("seq").values_list("action", flat=True)
        if a.startswith("demo.")
    ]
    assert actions[-3:] == [services.BUILD_ACTION, services.RESET_ACTION, services.BUILD_ACTION]
    assert audit.verify().ok
    assert Client().login(username="bank_staff", password=PASSWORD)


def test_refuses_to_build_twice_without_reset(refdata_loaded, demo_password):
    services.build_demo(seed=1, scale=SMALL)
    count = Enterprise.objects.count()
    with pytest.raises(Conflict) as excinfo:
        services.build_demo(seed=2, scale=SMALL)
    assert "--reset" in str(excinfo.value)
    assert Enterprise.objects.count() == count


def test_refuses_a_database_with_other_data(refdata_loaded, demo_password):
    User.objects.create_user("someone", password="x" * 12, role=Role.PLATFORM_ADMIN)
    for reset in (False, True):
        with pytest.raises(Conflict):
            services.build_demo(seed=1, scale=SMALL, reset=reset)
    assert not Enterprise.objects.exists()
    assert User.objects.filter(username="someone").exists()


def test_refuses_production_unless_allowed(refdata_loaded, demo_password, settings):
    settings.PRODUCTION = True
    with pytest.raises(Conflict):
        services.build_demo(seed=1, scale=SMALL)
    assert not Enterprise.objects.exists()
    services.build_demo(seed=1, scale=SMALL, allow_production=True)
    assert Enterprise.objects.exists()


@pytest.mark.parametrize(("seed", "scale"), [(-1, 1.0), (1, 0.0), (1, -2.0), (1, 1e6)])
def test_bad_arguments(seed, scale):
    with pytest.raises(ValidationFailed):
        services.check_arguments(seed, scale)


def test_loads_reference_data_when_missing(db, demo_password, monkeypatch):
    # Other suites keep regions in the test database for speed, so "missing"
    # is simulated rather than assumed.
    from chanrong.core import refdata

    calls = []
    real_load_all = refdata.load_all
    monkeypatch.setattr(refdata, "is_loaded", lambda: False)
    monkeypatch.setattr(refdata, "load_all", lambda: calls.append(1) or real_load_all())
    services.build_demo(seed=1, scale=SMALL)
    assert calls == [1]
    assert Region.objects.filter(pk="330421").exists()


def test_rebuild_spares_reference_data_and_catalogues():
    labels = {m._meta.label_lower for m in services.demo_models()}
    assert {"registry.enterprise", "accounts.user", "accounts.apitoken", "finance.branch"} <= labels
    assert not labels & {"core.region", "core.industry", "core.auditentry"}
    assert "auth.group" not in labels and "contenttypes.contenttype" not in labels


def test_command_prints_accounts_and_password(refdata_loaded, demo_password):
    out = StringIO()
    # An explicit build day: a rebuild across midnight would otherwise be another world.
    call_command("demo", "--scale", str(SMALL), "--seed", "9", "--today", "2026-06-15", stdout=out)
    text = out.getvalue()
    assert PASSWORD in text
    for username in ("admin", "gov_national", "bank_manager", "bank2_staff", "ent2_user"):
        assert username in text
    digest = services.compute_digest()
    assert digest in text

    with pytest.raises(CommandError, match="--reset"):
        call_command("demo", "--scale", str(SMALL), stdout=StringIO())

    out = StringIO()
    call_command("demo", "--if-missing", stdout=out)
    assert "跳过" in out.getvalue() and "ent_user" in out.getvalue()
    assert services.compute_digest() == digest

    out = StringIO()
    call_command(
        "demo", "--reset", "--scale", str(SMALL), "--seed", "9", "--today", "2026-06-15", stdout=out
    )
    assert services.compute_digest() == digest


def test_command_rejects_a_bad_scale():
    with pytest.raises(CommandError):
        call_command("demo", "--scale", "0", stdout=StringIO(), stderr=StringIO())


_GENERATE = textwrap.dedent(
    """
    import hashlib, django
    django.setup()
    from chanrong.demo.builders.base import DemoContext
    from chanrong.demo.builders import enterprises as e
    ctx = DemoContext(seed=4, scale=1, password_hash="")
    regions = [e.RegionChoice("330421", "嘉善", 0.8), e.RegionChoice("330481", "海宁", 0.2)]
    industries = e.industry_choices([
        ("C", "section", None), ("C34", "division", "C"), ("C39", "division", "C"),
        ("K", "section", None), ("K70", "division", "K"), ("K701", "group", "K70"),
        ("K702", "group", "K70"), ("J", "section", None), ("J66", "division", "J"),
    ])
    rows = e.generate(ctx.rng("enterprises"), 400, regions, industries, ctx.new_uscc)
    print(hashlib.sha256(repr(list(rows)).encode()).hexdigest())
    """
)


def test_generator_does_not_depend_on_the_hash_seed():
    """Iterating a set of strings would differ between processes; the generator must not."""
    digests = set()
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed, DJANGO_SETTINGS_MODULE="chanrong.settings")
        out = subprocess.run(
            [sys.executable, "-c", _GENERATE], env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_industry_choices_skip_uncovered_and_split_mixed_divisions():
    from chanrong.demo.builders.enterprises import industry_choices

    choices = dict(
        industry_choices(
            [
                ("C34", "division", "C"),
                ("J66", "division", "J"),
                ("K70", "division", "K"),
                ("K701", "group", "K70"),
                ("K702", "group", "K70"),
                ("K704", "group", "K70"),
            ]
        )
    )
    assert "J66" not in choices and "K70" not in choices and "K704" not in choices
    assert {"C34", "K701", "K702"} <= set(choices)


def test_place_names():
    from chanrong.demo.builders.enterprises import place_name

    assert place_name("嘉善县", "嘉兴市") == "嘉善"
    assert place_name("海宁市", "嘉兴市") == "海宁"
    assert place_name("南湖区", "嘉兴市") == "嘉兴"
