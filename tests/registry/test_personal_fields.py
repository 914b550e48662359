"""Issue 15, finding 4: an enterprise's personal fields are encrypted in the
database, masked in pages, the API and the export, shown in full only to
the enterprise itself or on an explicit, audited request by a user with the
right; the 法定代表人身份证号 is checked by its GB 11643 check digit."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from openpyxl import load_workbook

from chanrong.core.errors import ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.registry import services
from chanrong.registry.imports.exports import export_enterprises
from chanrong.registry.models import Enterprise
from chanrong.registry.services.personal import find_by_contact, personal_view

from .conftest import fields

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"  # a valid check digit (GB 11643 example)
PHONE = "13812345678"


@pytest.fixture
def contacts(world):
    services.update_enterprise_profile(
        world.user("ent_user"),
        world.ent,
        {
            "legal_representative": "张三丰",
            "legal_rep_id_number": ID_NUMBER.lower(),
            "contact_name": "李四",
            "contact_phone": PHONE,
            "contact_email": "lisi@example.cn",
        },
    )
    world.ent.refresh_from_db()
    return world.ent


def _stored(enterprise, column):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM registry_enterprise WHERE id = %s", [enterprise.pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_values_are_encrypted_in_the_database_and_read_back_in_plain(contacts):
    for column, plain in (
        ("legal_representative", "张三丰"),
        ("legal_rep_id_number", ID_NUMBER),
        ("contact_name", "李四"),
        ("contact_phone", PHONE),
        ("contact_email", "lisi@example.cn"),
    ):
        stored = _stored(contacts, column)
        assert stored.startswith("enc:v1:") and plain not in stored
        assert getattr(contacts, column) == plain
    # a lookup by phone or e-mail goes through the keyed hash, in any spelling
    assert list(find_by_contact(phone="138-1234-5678")) == [contacts]
    assert list(find_by_contact(email="LiSi@example.cn ")) == [contacts]
    assert not find_by_contact(phone="13800000000").exists()


def test_id_number_is_checked_by_its_check_digit(world):
    with pytest.raises(ValidationFailed) as caught:
        services.update_enterprise_profile(
            world.user("ent_user"), world.ent, {"legal_rep_id_number": "110105194912310021"}
        )
    assert [e.field for e in caught.value.errors] == ["legal_rep_id_number"]
    world.ent.refresh_from_db()
    assert world.ent.legal_rep_id_number == ""


def test_audit_diff_holds_masked_fingerprinted_values(contacts, world):
    entry = AuditEntry.objects.filter(action="enterprise.profile").latest("id")
    text = str(entry.changes)
    assert PHONE not in text and "张三丰" not in text and ID_NUMBER not in text
    old, new = entry.changes["contact_phone"]
    assert old is None and new.startswith("138****5678 #")
    # a change that keeps the same mask still shows in the diff
    services.update_enterprise_profile(
        world.user("ent_user"), contacts, {"contact_phone": "13899995678"}
    )
    entry = AuditEntry.objects.filter(action="enterprise.profile").latest("id")
    old, new = entry.changes["contact_phone"]
    assert old.startswith("138****5678") and new.startswith("138****5678") and old != new


@pytest.mark.parametrize(
    ("username", "masked", "can_unmask"),
    [
        ("ent_user", False, set()),  # its own data: in full
        ("gov_jiashan", True, {"all"}),  # government admin of the region
        ("gov_jiashan_staff", True, set()),  # no right
        ("bank_staff", True, {"contact"}),  # authorised by the enterprise: contacts only
        ("admin", True, {"all"}),  # superuser: holds every permission
    ],
)
def test_who_sees_what(contacts, world, username, masked, can_unmask):
    view = personal_view(world.user(username), contacts)
    assert view.masked is masked
    if masked:
        assert view["contact_phone"] == "138****5678"
        assert view["contact_email"] == "l***@example.cn"
        assert view["legal_representative"] == "张**"
        assert view["legal_rep_id_number"] == "1101**********002X"
    expected = {
        "all": {
            "legal_representative",
            "legal_rep_id_number",
            "contact_name",
            "contact_phone",
            "contact_email",
        },
        "contact": {"contact_name", "contact_phone", "contact_email"},
    }
    assert set(view.can_unmask) == set().union(*(expected[g] for g in can_unmask))


def test_an_explicit_permission_gives_the_right(contacts, world):
    staff = world.user("gov_jiashan_staff")
    staff.user_permissions.add(Permission.objects.get(codename="unmask_personal"))
    staff = type(staff).objects.get(pk=staff.pk)  # fresh permission cache
    assert personal_view(staff, contacts, unmask=True)["contact_phone"] == PHONE


def test_api_masks_and_unmasks_with_the_right_and_an_audit_entry(contacts, world, api_as):
    url = f"/enterprises/{contacts.pk}/profile"
    body = api_as("gov_jiashan").get(url).json()
    assert body["contact_phone"] == "138****5678" and body["personal_masked"] is True
    assert "contact_phone" in body["personal_unmaskable"]
    before = AuditEntry.objects.filter(action="personal.unmask").count()
    body = api_as("gov_jiashan").get(url + "?unmask=1").json()
    assert body["contact_phone"] == PHONE and body["legal_rep_id_number"] == ID_NUMBER
    entry = AuditEntry.objects.filter(action="personal.unmask").latest("id")
    assert AuditEntry.objects.filter(action="personal.unmask").count() == before + 1
    assert entry.actor_name == "gov_jiashan" and entry.object_id == str(contacts.pk)
    assert "contact_phone" in entry.changes["fields"][0] and PHONE not in str(entry.changes)
    # an institution the enterprise authorised: contacts in full, identity still masked
    body = api_as("bank_staff").get(url + "?unmask=1").json()
    assert body["contact_phone"] == PHONE and body["legal_rep_id_number"] == "1101**********002X"
    # no right: 403, nothing audited; not visible: 404
    count = AuditEntry.objects.filter(action="personal.unmask").count()
    assert api_as("gov_jiashan_staff").get(url + "?unmask=1").status_code == 403
    assert api_as("bank2_staff").get(url + "?unmask=1").status_code == 404
    assert AuditEntry.objects.filter(action="personal.unmask").count() == count
    # the enterprise itself: in full, without asking
    assert api_as("ent_user").get(url).json()["contact_phone"] == PHONE


def test_api_patch_of_a_bad_id_number_is_a_field_error(world, api_as):
    response = api_as("ent_user").patch(
        f"/enterprises/{world.ent.pk}/profile", {"legal_rep_id_number": "123"}
    )
    assert response.status_code == 422
    assert set(fields(response)) == {"legal_rep_id_number"}


def test_page_masks_and_the_button_unmasks_with_an_audit_entry(contacts, web_as):
    client = web_as("gov_jiashan")
    page = client.get(f"/enterprises/{contacts.pk}/").content.decode()
    assert "138****5678" in page and PHONE not in page and "查看完整信息" in page
    response = client.post(
        f"/enterprises/{contacts.pk}/personal/unmask/", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert PHONE in html and ID_NUMBER in html and "<html" not in html
    assert AuditEntry.objects.filter(action="personal.unmask", actor_name="gov_jiashan").exists()
    staff = web_as("gov_jiashan_staff")
    page = staff.get(f"/enterprises/{contacts.pk}/").content.decode()
    assert "查看完整信息" not in page and PHONE not in page
    assert staff.post(f"/enterprises/{contacts.pk}/personal/unmask/").status_code == 403
    own = web_as("ent_user").get(f"/enterprises/{contacts.pk}/").content.decode()
    assert PHONE in own and "张三丰" in own


def test_profile_form_keeps_masked_values_it_was_given_back(contacts, web_as):
    client = web_as("gov_jiashan")
    form = client.get(f"/enterprises/{contacts.pk}/profile/").content.decode()
    assert "138****5678" in form and PHONE not in form
    response = client.post(
        f"/enterprises/{contacts.pk}/profile/",
        {
            "legal_representative": "张**",
            "legal_rep_id_number": "1101**********002X",
            "contact_name": "李*",
            "contact_phone": "138****5678",
            "contact_email": "l***@example.cn",
            "address": "嘉善县罗星街道 1 号",
        },
    )
    assert response.status_code == 302
    contacts.refresh_from_db()
    assert contacts.contact_phone == PHONE and contacts.legal_rep_id_number == ID_NUMBER
    assert contacts.address == "嘉善县罗星街道 1 号"


def _export_rows(user):
    handle, count = export_enterprises(user, {})
    sheet = load_workbook(io.BytesIO(handle.read()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    return rows[0], rows[1 : count + 1]


def test_export_masks_except_the_users_own_enterprise(contacts, world):
    header, rows = _export_rows(world.user("gov_jiashan"))
    phone = header.index("联系电话")
    by_name = {row[header.index("企业名称")]: row for row in rows}
    assert by_name[contacts.name][phone] == "138****5678"
    assert by_name[contacts.name][header.index("法定代表人")] == "张**"
    header, rows = _export_rows(world.user("ent_user"))
    assert [row[phone] for row in rows] == [PHONE]


def test_import_encrypts_and_hashes(world):
    rows = [
        {
            "uscc": world.ent2.uscc,
            "contact_phone": "13912345678",
            "contact_email": "wang@example.cn",
        }
    ]
    result, bad = services.import_enterprises(world.user("gov_jiashan"), rows)
    assert bad == []
    assert result.updated == 1
    assert _stored(world.ent2, "contact_phone").startswith("enc:v1:")
    assert list(find_by_contact(phone="139 1234 5678")) == [
        Enterprise.objects.get(pk=world.ent2.pk)
    ]


def test_reimporting_a_masked_export_keeps_the_stored_values(contacts, world):
    """An export edited in Excel and imported again carries masked values:
    they mean "unchanged", never a new phone number "138****5678"."""
    rows = [
        {
            "uscc": contacts.uscc,
            "contact_phone": "138****5678",
            "contact_name": "李*",
            "legal_representative": "张**",
            "address": "嘉善县魏塘街道 8 号",
        }
    ]
    result, bad = services.import_enterprises(world.user("gov_jiashan"), rows)
    assert bad == [] and result.updated == 1
    contacts.refresh_from_db()
    assert contacts.contact_phone == PHONE and contacts.contact_name == "李四"
    assert contacts.legal_representative == "张三丰" and contacts.address == "嘉善县魏塘街道 8 号"
