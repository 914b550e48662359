"""Issue 15: an objector's name and contact (a member of the public who
wrote to the 公示) are encrypted at rest, masked in the application page and
the API, and shown in full only on an audited request by the agency users of
the programme's region."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from chanrong.accounts.services import create_token
from chanrong.core.fieldcrypt import is_encrypted
from chanrong.core.models import AuditEntry
from chanrong.policy import services
from chanrong.policy.models import Objection
from chanrong.policy.services.objection_personal import mask_contact

from .test_gov_pages import submitted_application

pytestmark = pytest.mark.django_db

NAME, PHONE = "欧阳明华", "13812345678"


@pytest.fixture
def objection(policy_world) -> Objection:
    pw = policy_world
    app = submitted_application(pw)
    app = services.verify(pw.user("gov_jiashan"), app)
    app = services.approve(pw.user("fin_admin"), app)
    return services.raise_objection(app, {"name": NAME, "contact": PHONE, "text": "不符合条件"})


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_stored_as_ciphertext_and_read_back(objection):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT name, contact FROM {Objection._meta.db_table} WHERE id = %s",  # noqa: S608
            [objection.pk],
        )
        name, contact = cursor.fetchone()
    assert is_encrypted(name) and is_encrypted(contact)
    assert NAME not in name and PHONE not in contact
    fresh = Objection.objects.get(pk=objection.pk)
    assert (fresh.name, fresh.contact) == (NAME, PHONE)
    # The audit entry of the raise names the objection, never the objector.
    assert NAME not in str(objection)


def test_mask_contact_by_what_it_looks_like():
    assert mask_contact("13812345678") == "138****5678"
    assert mask_contact("zhang@example.com") == "z***@example.com"
    assert mask_contact("微信号") == "微**"
    assert mask_contact("") == ""


def test_page_masks_and_the_region_agency_unmasks_with_an_audit(policy_world, objection):
    pw = policy_world
    url = reverse("policy:application", args=[objection.application_id])
    unmask = reverse("policy:objection_unmask", args=[objection.pk])
    officer = client_for(pw.user("fin_staff"))
    page = officer.get(url).content.decode()
    assert "欧阳**" in page and "138****5678" in page
    assert NAME not in page and PHONE not in page
    assert 'data-action="unmask-objector"' in page
    before = AuditEntry.objects.filter(action="personal.unmask").count()
    full = officer.post(unmask)
    assert full.status_code == 200
    assert NAME in full.content.decode() and PHONE in full.content.decode()
    entry = AuditEntry.objects.filter(action="personal.unmask").order_by("-seq").first()
    assert AuditEntry.objects.filter(action="personal.unmask").count() == before + 1
    assert entry.actor_id == pw.user("fin_staff").pk
    assert NAME not in str(entry.changes) and PHONE not in str(entry.changes)
    # The next look is masked again.
    assert NAME not in officer.get(url).content.decode()


def test_national_agency_sees_masked_and_may_not_unmask(policy_world, objection):
    national = client_for(policy_world.user("gov_national"))
    url = reverse("policy:application", args=[objection.application_id])
    text = national.get(url).content.decode()
    assert "欧阳**" in text and NAME not in text and PHONE not in text
    assert 'data-action="unmask-objector"' not in text
    before = AuditEntry.objects.filter(action="personal.unmask").count()
    refused = national.post(reverse("policy:objection_unmask", args=[objection.pk]))
    assert refused.status_code in (403, 404)
    assert AuditEntry.objects.filter(action="personal.unmask").count() == before


def test_public_pages_never_show_the_objector(objection):
    page = Client().get(reverse("policy:notices")).content.decode()
    assert NAME not in page and "欧阳**" not in page and PHONE not in page


def api(user, path: str):
    token = create_token(None, user, "tests").raw
    return Client().get(f"/api/v1/policy{path}", headers={"Authorization": f"Bearer {token}"})


def test_api_masks_and_unmask_is_audited(policy_world, objection):
    pw = policy_world
    path = f"/applications/{objection.application_id}/objections"
    (listed,) = api(pw.user("gov_jiashan"), path).json()
    assert (listed["name"], listed["contact"]) == ("欧阳**", "138****5678")
    assert listed["personal_masked"] and listed["personal_unmaskable"]
    before = AuditEntry.objects.filter(action="personal.unmask").count()
    (full,) = api(pw.user("gov_jiashan"), path + "?unmask=1").json()
    assert (full["name"], full["contact"]) == (NAME, PHONE) and not full["personal_masked"]
    assert AuditEntry.objects.filter(action="personal.unmask").count() == before + 1


def test_migration_encrypts_rows_stored_in_plain_text(objection):
    """policy.0004's data step, run on a row written in plain text as before."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("chanrong.policy.migrations.0004_objection_personal_encrypted")
    table = Objection._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET name = %s, contact = %s WHERE id = %s",  # noqa: S608
            [NAME, PHONE, objection.pk],
        )
        migration.encrypt_existing(apps, None)
        cursor.execute(f"SELECT name, contact FROM {table} WHERE id = %s", [objection.pk])  # noqa: S608
        stored = cursor.fetchone()
    assert all(is_encrypted(value) for value in stored)
    fresh = Objection.objects.get(pk=objection.pk)
    assert (fresh.name, fresh.contact) == (NAME, PHONE)
