"""Issue 15: a pilot application's contact person (联系人, 联系电话) is
encrypted at rest; the applying city and its reviewers see it in full, an
intermediate prefecture and the platform administrator see it masked, and
only a holder of the personal-data right may ask for it in full, audited."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from chanrong.accounts.services import create_token
from chanrong.core.fieldcrypt import is_encrypted
from chanrong.core.models import AuditEntry
from chanrong.pilots import services
from chanrong.pilots.models import Application
from tests.conftest import JIAXING

from .conftest import fill_application, make_user
from .urls_api import PREFIX

# The pilot router on the test API (urls_api.py), as tests/pilots/test_api.py.
pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.pilots.urls_api")]

NAME, PHONE = "张三", "0573-84000000"


@pytest.fixture
def application(world, pilot) -> Application:
    application = fill_application(world.user("gov_jiashan"), pilot.batch)
    return services.submit_application(world.user("gov_jiashan"), application)


def page(user, application, method="get", name="pilots:application") -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    response = getattr(client, method)(reverse(name, args=[application.pk]))
    return response.status_code, response.content.decode()


def api(user, path: str):
    token = create_token(None, user, "tests").raw
    return Client().get(PREFIX + path, headers={"Authorization": f"Bearer {token}"})


def unmasks() -> int:
    return AuditEntry.objects.filter(action="personal.unmask").count()


def test_stored_as_ciphertext(application):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT contact_name, contact_phone FROM {Application._meta.db_table} WHERE id = %s",  # noqa: S608
            [application.pk],
        )
        name, phone = cursor.fetchone()
    assert is_encrypted(name) and is_encrypted(phone)
    assert NAME not in name and "84000000" not in phone
    fresh = Application.objects.get(pk=application.pk)
    assert (fresh.contact_name, fresh.contact_phone) == (NAME, PHONE)
    # The audit entry of the creation keeps the contact masked.
    created = AuditEntry.objects.get(action="pilots.application.create")
    assert NAME not in str(created.changes) and "84000000" not in str(created.changes)


def test_applicant_and_reviewers_see_the_contact_in_full(world, application):
    for user in (world.user("gov_jiashan"), world.user("gov_zhejiang")):
        status, text = page(user, application)
        assert status == 200 and NAME in text and PHONE in text
    body = api(world.user("gov_zhejiang"), f"/applications/{application.pk}").json()
    assert (body["contact_name"], body["contact_phone"]) == (NAME, PHONE)
    assert body["contact_masked"] is False


def test_others_see_it_masked_and_may_not_unmask(application):
    prefecture = make_user("jiaxing_admin", JIAXING)
    status, text = page(prefecture, application)
    assert status == 200 and "张*" in text and "0573-****0000" in text
    assert NAME not in text and PHONE not in text
    assert 'data-action="unmask-contact"' not in text
    body = api(prefecture, f"/applications/{application.pk}").json()
    assert (body["contact_name"], body["contact_masked"]) == ("张*", True)
    before = unmasks()
    assert page(prefecture, application, "post", "pilots:application_unmask")[0] == 403
    assert api(prefecture, f"/applications/{application.pk}?unmask=1").status_code == 403
    assert unmasks() == before


def test_platform_admin_unmasks_with_an_audit(world, application):
    admin = world.user("admin")
    status, text = page(admin, application)
    assert status == 200 and NAME not in text and 'data-action="unmask-contact"' in text
    before = unmasks()
    status, text = page(admin, application, "post", "pilots:application_unmask")
    assert status == 200 and NAME in text and PHONE in text
    body = api(admin, f"/applications/{application.pk}?unmask=1").json()
    assert (body["contact_name"], body["contact_phone"]) == (NAME, PHONE)
    assert unmasks() == before + 2
    entry = AuditEntry.objects.filter(action="personal.unmask").order_by("-seq").first()
    assert entry.actor_id == admin.pk and NAME not in str(entry.changes)


def test_migration_encrypts_rows_stored_in_plain_text(application):
    """pilots.0002's data step, run on a row written in plain text as before."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("chanrong.pilots.migrations.0002_application_contact_encrypted")
    table = Application._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET contact_name = %s, contact_phone = %s WHERE id = %s",  # noqa: S608
            [NAME, PHONE, application.pk],
        )
        migration.encrypt_existing(apps, None)
        cursor.execute(
            f"SELECT contact_name, contact_phone FROM {table} WHERE id = %s",  # noqa: S608
            [application.pk],
        )
        stored = cursor.fetchone()
    assert all(is_encrypted(value) for value in stored)
    fresh = Application.objects.get(pk=application.pk)
    assert (fresh.contact_name, fresh.contact_phone) == (NAME, PHONE)
