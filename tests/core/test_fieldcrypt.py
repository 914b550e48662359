"""Field encryption (core.fieldcrypt): AES-GCM values bound to their column,
the key ring from CHANRONG_FIELD_KEYS, keyed hashes that survive a rotation,
`chanrong crypto check|rotate`, the production warning, and owner-only data
files."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

from chanrong.core import fieldcrypt
from chanrong.core.models import AuditEntry
from chanrong.registry.models import Enterprise
from chanrong.registry.services.personal import find_by_contact

KEY_A = fieldcrypt.new_key_line("a1")
KEY_B = fieldcrypt.new_key_line("b2")
PROJECT = Path(__file__).resolve().parents[2]


def test_round_trip_with_a_fresh_nonce_and_bound_to_its_column(settings):
    settings.CHANRONG_FIELD_KEYS = KEY_A
    one = fieldcrypt.encrypt("13812345678", context="t.phone")
    two = fieldcrypt.encrypt("13812345678", context="t.phone")
    assert one != two and one.startswith("enc:v1:a1:")
    assert fieldcrypt.decrypt(one, context="t.phone") == "13812345678"
    with pytest.raises(fieldcrypt.DecryptionError):  # moved to another column
        fieldcrypt.decrypt(one, context="t.email")
    body = one.rsplit(":", 1)[1]
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(fieldcrypt.DecryptionError):  # tampered with
        fieldcrypt.decrypt(one.rsplit(":", 1)[0] + ":" + flipped, context="t.phone")
    settings.CHANRONG_FIELD_KEYS = KEY_B  # the old key dropped too early
    with pytest.raises(fieldcrypt.DecryptionError, match="no key 'a1'"):
        fieldcrypt.decrypt(one, context="t.phone")
    assert fieldcrypt.decrypt("plain text", context="t.phone") == "plain text"
    assert fieldcrypt.encrypt("", context="t.phone") == ""


@pytest.mark.parametrize(
    "spec",
    ["nocolon", "a1:short", "a1:" + "A" * 44 + ",a1:" + "A" * 44, "bad id:" + "A" * 44],
)
def test_bad_key_specs_are_refused_without_echoing_the_key(spec):
    with pytest.raises(ImproperlyConfigured) as caught:
        fieldcrypt.parse_keys(spec)
    assert "A" * 44 not in str(caught.value)


def test_lookup_hashes_cover_every_key_in_the_ring(settings):
    settings.CHANRONG_FIELD_KEYS = KEY_A
    old = fieldcrypt.keyed_hash("138 1234 5678", purpose="phone")
    assert old == fieldcrypt.keyed_hash("13812345678", purpose="phone")
    assert old != fieldcrypt.keyed_hash("13812345678", purpose="email")
    settings.CHANRONG_FIELD_KEYS = f"{KEY_B},{KEY_A}"
    hashes = fieldcrypt.lookup_hashes("13812345678", purpose="phone")
    assert len(hashes) == 2 and hashes[1] == old and hashes[0] != old


def test_production_without_keys_warns_loudly(settings):
    settings.PRODUCTION = True
    settings.CHANRONG_FIELD_KEYS = ""
    ids = [m.id for m in run_checks(tags=["security"])]
    assert "chanrong.W101" in ids
    settings.CHANRONG_FIELD_KEYS = KEY_A
    assert "chanrong.W101" not in [m.id for m in run_checks(tags=["security"])]
    settings.CHANRONG_FIELD_KEYS = "a1:notbase64!"
    assert "chanrong.E101" in [m.id for m in run_checks(tags=["security"])]


def _stored(pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM registry_enterprise WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_encrypted_fields_refuse_searches_that_could_never_match(world):
    assert world.ent in Enterprise.objects.filter(contact_phone="")
    with pytest.raises(FieldError):
        list(Enterprise.objects.filter(contact_phone="13812345678"))
    with pytest.raises(FieldError):
        list(Enterprise.objects.filter(contact_email__icontains="example"))


@pytest.mark.django_db
def test_rotate_re_encrypts_resumably_and_check_reports(world, settings):
    settings.CHANRONG_FIELD_KEYS = KEY_A
    for index, enterprise in enumerate((world.ent, world.ent2, world.ent_js)):
        enterprise.contact_phone = f"1381234567{index}"
        enterprise.contact_email = f"p{index}@example.cn"
        enterprise.save()
    # a value left in plain text (written before encryption existed)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_enterprise SET legal_representative = %s WHERE id = %s",
            ["王五", world.ent_js.pk],
        )
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("crypto", "check", stdout=out)
    assert "plain 1" in out.getvalue()

    settings.CHANRONG_FIELD_KEYS = f"{KEY_B},{KEY_A}"
    # half-way through a rotation, lookups still find rows under the old key
    assert list(find_by_contact(phone="13812345670")) == [world.ent]
    out = StringIO()
    call_command("crypto", "rotate", "--batch", "2", stdout=out)
    assert "3 rows re-encrypted under b2" in out.getvalue()
    assert _stored(world.ent.pk, "contact_phone").startswith("enc:v1:b2:")
    assert _stored(world.ent_js.pk, "legal_representative").startswith("enc:v1:b2:")
    assert AuditEntry.objects.filter(action="crypto.rotate").exists()
    # a second run finds nothing left to do (what makes it resumable)
    out = StringIO()
    call_command("crypto", "rotate", stdout=out)
    assert "0 rows re-encrypted" in out.getvalue()
    # the old key can go: everything reads and is found under the new one alone
    settings.CHANRONG_FIELD_KEYS = KEY_B
    out = StringIO()
    call_command("crypto", "check", stdout=out)
    assert "OK" in out.getvalue() and "key b2 3" in out.getvalue()
    assert Enterprise.objects.get(pk=world.ent_js.pk).legal_representative == "王五"
    assert list(find_by_contact(email="P2@example.cn")) == [world.ent_js]


def test_newkey_prints_a_usable_entry():
    out = StringIO()
    call_command("crypto", "newkey", "--key-id", "k9", stdout=out)
    line = out.getvalue().strip()
    assert fieldcrypt.parse_keys(line)[0][0] == "k9"


def _run(args: list[str], var_dir: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "CHANRONG_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "chanrong.settings",
    }
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "chanrong", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_data_files_are_owner_only(tmp_path):
    """`chanrong migrate` runs with umask 077, so the SQLite file it creates
    is 0600, and first tightens data files that were created open."""
    var_dir = tmp_path / "var"
    backups = var_dir / "backups"
    backups.mkdir(parents=True, mode=0o755)
    backups.chmod(0o755)
    old = backups / "chanrong-20260101.sqlite3"
    old.write_text("x")
    old.chmod(0o644)
    anchors = var_dir / "audit-anchors.sqlite-chanrong.jsonl"
    anchors.write_text("")
    anchors.chmod(0o644)
    result = _run(["migrate", "--plan"], var_dir)
    assert result.returncode == 0, result.stderr
    database = var_dir / "chanrong.sqlite3"  # did not exist: created by this process
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    for extra in (var_dir / "chanrong.sqlite3-wal", var_dir / "chanrong.sqlite3-shm"):
        if extra.exists():
            assert stat.S_IMODE(extra.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert stat.S_IMODE(anchors.stat().st_mode) == 0o600


@pytest.mark.django_db
def test_moving_off_the_key_derived_from_the_secret_key(world, settings):
    settings.CHANRONG_FIELD_KEYS = ""
    world.ent.contact_email = "dev@example.cn"
    world.ent.save()
    assert _stored(world.ent.pk, "contact_email").startswith("enc:v1:dev:")
    settings.CHANRONG_FIELD_KEYS = f"{KEY_A},dev"
    assert Enterprise.objects.get(pk=world.ent.pk).contact_email == "dev@example.cn"
    call_command("crypto", "rotate", stdout=StringIO())
    settings.CHANRONG_FIELD_KEYS = KEY_A
    assert Enterprise.objects.get(pk=world.ent.pk).contact_email == "dev@example.cn"
    assert _stored(world.ent.pk, "contact_email").startswith("enc:v1:a1:")
