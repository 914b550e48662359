"""个人信息保护法 requests (core.pipl): a person's data exported as JSON, and
the person anonymised — placeholders, account deactivated, tokens revoked,
ids kept — with the audit chain still verifying afterwards."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from chanrong.accounts.models import ApiToken, User
from chanrong.accounts.services import create_token
from chanrong.core import audit, pipl
from chanrong.core.errors import NotAllowed
from chanrong.core.models import AuditEntry
from chanrong.demands.models import Demand
from chanrong.registry import services as registry
from chanrong.registry.models import Enterprise

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


@pytest.fixture
def person(world):
    user = world.user("ent_user")
    user.phone = PHONE
    user.email = "ent.user@example.cn"
    user.display_name = "王小明"
    user.save()
    registry.update_enterprise_profile(
        user,
        world.ent,
        {
            "contact_name": "王小明",
            "contact_phone": "139-1234-5678",
            "contact_email": "ent.user@example.cn",
            "legal_representative": "赵大",
        },
    )
    # ent2 has the same person as its contact too (found by the phone's hash)
    world.ent2.contact_phone = PHONE
    world.ent2.contact_name = "王小明"
    world.ent2.save()
    Demand.objects.create(
        enterprise=world.ent,
        created_by=user,
        kind="loan",
        amount=Decimal("5000000"),
        term_months=12,
        purpose="采购原材料",
    )
    create_token(None, user, "对接系统")
    return user


def _export(username: str) -> dict:
    out = StringIO()
    call_command("pipl", "export", "--user", username, stdout=out)
    return json.loads(out.getvalue())


def test_export_holds_account_enterprises_demands_and_audit_entries(person, world):
    with connection.cursor() as cursor:  # the account's phone is encrypted at rest too
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [person.pk])
        assert cursor.fetchone()[0].startswith("enc:v1:")
    data = _export("ent_user")
    assert data["account"]["phone"] == PHONE and data["account"]["username"] == "ent_user"
    assert [t["name"] for t in data["account"]["api_tokens"]] == ["对接系统"]
    by_id = {row["id"]: row for row in data["enterprises"]}
    assert by_id[world.ent.pk]["contact_phone"] == "139-1234-5678"
    assert by_id[world.ent2.pk]["relations"] == ["contact"]
    assert "legal_representative" not in by_id[world.ent.pk]  # 赵大 is someone else
    assert [d["purpose"] for d in data["demands"]] == ["采购原材料"]
    assert "enterprise.profile" in {e["action"] for e in data["audit_entries"]}
    entry = AuditEntry.objects.filter(action="pipl.export").latest("id")
    assert entry.object_id == str(person.pk) and PHONE not in json.dumps(entry.changes)


def test_anonymise_keeps_ids_and_the_audit_chain(person, world):
    before = AuditEntry.objects.filter(actor_id=person.pk).count()
    with pytest.raises(CommandError, match="--yes"):
        call_command("pipl", "anonymise", "--user", "ent_user")
    out = StringIO()
    call_command("pipl", "anonymise", "--user", "ent_user", "--yes", stdout=out)
    assert "enterprise_contacts_cleared 2" in out.getvalue()
    user = User.objects.get(pk=person.pk)
    assert user.username == f"anonymised-{person.pk}" and not user.is_active
    assert user.phone == user.email == "" and user.display_name == "已匿名用户"
    assert not user.has_usable_password()
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    for enterprise in Enterprise.objects.filter(pk__in=[world.ent.pk, world.ent2.pk]):
        assert enterprise.contact_phone == enterprise.contact_name == ""
        assert enterprise.contact_phone_hash == ""
    assert Enterprise.objects.get(pk=world.ent.pk).legal_representative == "赵大"
    assert Demand.objects.get(purpose="采购原材料").created_by_id == person.pk
    # the person's audit rows are all still there, untouched, and the chain verifies
    assert AuditEntry.objects.filter(actor_id=person.pk).count() == before
    assert AuditEntry.objects.filter(action="pipl.anonymised", object_id=str(person.pk)).exists()
    result = audit.verify()
    assert result.ok, result.reason
    # nothing left to find by the old phone; a new export says so
    assert _export(f"anonymised-{person.pk}")["enterprises"] == []


def test_only_system_or_security_admins_handle_requests(person, world):
    with pytest.raises(NotAllowed):
        pipl.export_person(world.user("gov_jiashan"), person)
    with pytest.raises(NotAllowed):
        pipl.anonymise_person(world.user("ent_user"), person)
    assert pipl.can_handle_requests(world.user("admin"))


def test_the_admin_page(person, world):
    client = Client()
    client.force_login(world.user("admin"))
    assert client.get("/pipl/").status_code == 200
    response = client.post("/pipl/", {"username": "ent_user", "action": "export"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["account"]["phone"] == PHONE
    response = client.post(
        "/pipl/", {"username": "ent_user", "action": "anonymise", "confirm": "wrong"}
    )
    assert response.status_code == 200 and "请再次输入相同的用户名" in response.content.decode()
    assert User.objects.get(pk=person.pk).is_active
    response = client.post(
        "/pipl/", {"username": "ent_user", "action": "anonymise", "confirm": "ent_user"}
    )
    assert response.status_code == 302
    assert not User.objects.get(pk=person.pk).is_active
    gov = Client()
    gov.force_login(world.user("gov_jiashan"))
    assert gov.get("/pipl/").status_code == 404
