"""Self-registration (issue 17): the public forms, the status link, the
review queue; the account gains its rights only on approval."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency, Role, User
from chanrong.accounts.registration_models import Registration, RegistrationStatus
from chanrong.core.codes import make_uscc
from chanrong.core.models import AuditEntry, Notification
from chanrong.registry.models import Enterprise, FactSource, FactStatus
from tests.conftest import JIASHAN, PASSWORD

pytestmark = pytest.mark.django_db

NEW_USCC = make_uscc("91330421MA2B00001")
STRONG = "Zhuce-mima-2026!"


def enterprise_form(**overrides) -> dict:
    data = {
        "uscc": NEW_USCC,
        "name": "嘉善云帆智能装备有限公司",
        "province": "33",
        "region_code": JIASHAN,
        "industry_code": "C34",
        "contact_name": "王晓明",
        "contact_phone": "13857300001",
        "contact_email": "wang@example.com",
        "username": "yunfan_wang",
        "password": STRONG,
        "password2": STRONG,
        "consent": "on",
    }
    data.update(overrides)
    return data


def submit(client: Client, **overrides):
    return client.post("/accounts/register/enterprise/", enterprise_form(**overrides))


def status_token(response) -> str:
    return re.search(r"/accounts/register/status/([\w-]+)/", response.content.decode())[1]


def test_sign_in_page_links_to_both_forms(client):
    html = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/register/enterprise/"' in html
    assert 'href="/accounts/register/institution/"' in html
    assert client.get("/accounts/register/enterprise/").status_code == 200
    assert client.get("/accounts/register/institution/").status_code == 200


def test_every_bad_field_is_reported_at_once(world, client):
    response = submit(
        client,
        uscc=NEW_USCC[:17] + ("0" if NEW_USCC[17] != "0" else "1"),  # wrong check digit
        name="",
        region_code="330400",  # a city, not a county
        contact_phone="12345",
        contact_email="not-an-address",
        username="ent_user",  # taken by an account
        password="short",
        password2="other",
        consent="",
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) == {
        "uscc",
        "name",
        "region_code",
        "contact_phone",
        "contact_email",
        "username",
        "password",
        "password2",
        "consent",
    }
    assert "校验码" in errors["uscc"][0]
    assert "已被使用" in errors["username"][0]
    assert not Registration.objects.exists()


def test_duplicate_pending_uscc_and_reserved_username_refused(world, client):
    assert submit(client).status_code == 200
    response = submit(client, username="someone_else")
    assert response.status_code == 422
    assert "待审核" in response.context["form"].errors["uscc"][0]
    response = submit(client, uscc=make_uscc("91330421MA2B00003"))
    assert "已被使用" in response.context["form"].errors["username"][0]
    assert Registration.objects.count() == 1


def test_public_form_is_rate_limited(world, client, settings):
    settings.CHANRONG_REGISTRATION_RATE = "1/hour"
    assert submit(client, consent="").status_code == 422
    response = submit(client)
    assert response.status_code == 429
    assert not Registration.objects.exists()


def test_pending_account_has_no_rights_then_approval_creates_enterprise(world, client, login):
    response = submit(client)
    token = status_token(response)
    registration = Registration.objects.get()
    # Contact data encrypted at rest; the password kept only as a hash.
    assert registration.password.startswith(("md5$", "argon2", "pbkdf2"))
    # Pending: nothing to sign in to.
    assert not Client().login(username="yunfan_wang", password=STRONG)
    assert not User.objects.filter(username="yunfan_wang").exists()
    status_page = client.get(f"/accounts/register/status/{token}/")
    assert "待审核" in status_page.content.decode()
    # The county's agency is told; the list masks the contact.
    assert Notification.objects.filter(recipient=world.user("gov_jiashan")).exists()
    clerk = login("gov_jiashan")
    queue = clerk.get("/accounts/registrations/").content.decode()
    assert "嘉善云帆智能装备有限公司" in queue and "13857300001" not in queue
    assert "138****0001" in queue
    # Approve: the enterprise is created (企业自报, declared) and the role granted.
    response = clerk.post(
        f"/accounts/registrations/{registration.pk}/decide/", {"action": "approve"}
    )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.APPROVED and registration.password == ""
    enterprise = Enterprise.objects.get(uscc=NEW_USCC)
    assert enterprise.figures_source == FactSource.ENTERPRISE
    assert enterprise.figures_status == FactStatus.DECLARED
    user = User.objects.get(username="yunfan_wang")
    assert user.role == Role.ENTERPRISE_USER and user.enterprise_id == enterprise.pk
    assert Client().login(username="yunfan_wang", password=STRONG)
    actions = set(
        AuditEntry.objects.filter(object_id=str(registration.pk)).values_list("action", flat=True)
    )
    assert actions == {"accounts.registration.submit", "accounts.registration.approve"}
    assert AuditEntry.objects.filter(action="enterprise.create", object_id=str(enterprise.pk))
    assert "已通过" in client.get(f"/accounts/register/status/{token}/").content.decode()


def test_registry_match_links_and_flags_a_different_name(world, client, login):
    response = submit(client, uscc=world.ent.uscc, name="嘉善精工")
    assert 'data-testid="name-mismatch"' in response.content.decode()
    registration = Registration.objects.get()
    assert registration.enterprise_id == world.ent.pk
    assert registration.registry_name == world.ent.name
    login("gov_jiashan").post(
        f"/accounts/registrations/{registration.pk}/decide/", {"action": "approve"}
    )
    assert User.objects.get(username="yunfan_wang").enterprise_id == world.ent.pk
    assert Enterprise.objects.count() == 3  # none created


def test_another_countys_clerk_cannot_see_or_approve(world, client):
    submit(client)
    registration = Registration.objects.get()
    pinghu = GovernmentAgency.objects.create(
        name="平湖市经信局",
        level=AgencyLevel.COUNTY,
        function=AgencyFunction.INDUSTRY,
        region_id="330482",
    )
    clerk = User(username="gov_pinghu", role=Role.GOV_ADMIN, agency=pinghu)
    clerk.set_password(PASSWORD)
    clerk.save()
    other = Client()
    other.force_login(clerk)
    url = f"/accounts/registrations/{registration.pk}/"
    assert other.get(url).status_code == 404
    assert other.post(f"{url}decide/", {"action": "approve"}).status_code == 404
    assert "嘉善云帆" not in other.get("/accounts/registrations/").content.decode()
    # The province sees it but does not decide: the county's agency does.
    province = Client()
    province.force_login(world.user("gov_zhejiang"))
    page = province.get(url)
    assert (
        page.status_code == 200
        and 'data-action="approve-registration"' not in page.content.decode()
    )
    province.post(f"{url}decide/", {"action": "approve"})
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.SUBMITTED


def test_reject_needs_a_reason_and_withdraw_by_link(world, client, login):
    token = status_token(submit(client))
    registration = Registration.objects.get()
    clerk = login("gov_jiashan_staff")
    url = f"/accounts/registrations/{registration.pk}/decide/"
    assert clerk.post(url, {"action": "reject", "reason": " "}).status_code == 422
    clerk.post(url, {"action": "reject", "reason": "无法核实联系人身份"})
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.REJECTED
    page = client.get(f"/accounts/register/status/{token}/").content.decode()
    assert "无法核实联系人身份" in page
    # A new application may follow; the applicant withdraws it by the link.
    token = status_token(submit(client))
    client.post(f"/accounts/register/status/{token}/")
    assert Registration.objects.filter(status=RegistrationStatus.WITHDRAWN).count() == 1
    assert client.get("/accounts/register/status/not-a-token/").status_code == 404


def test_institution_registration_approved_by_platform_admin(world, client, login):
    data = {
        "name": "嘉善富民村镇银行股份有限公司",
        "institution_kind": "bank",
        "uscc": "B1234H233040001",
        "branch_name": "魏塘支行",
        "province": "33",
        "region_code": JIASHAN,
        **{
            k: v
            for k, v in enterprise_form(username="fumin_mgr").items()
            if k.startswith(("contact", "user", "pass", "consent"))
        },
    }
    response = client.post("/accounts/register/institution/", data)
    assert response.status_code == 200, response.context["form"].errors
    registration = Registration.objects.get()
    # Government does not review institutions.
    assert (
        login("gov_jiashan").get(f"/accounts/registrations/{registration.pk}/").status_code == 404
    )
    login("admin").post(f"/accounts/registrations/{registration.pk}/decide/", {"action": "approve"})
    user = User.objects.get(username="fumin_mgr")
    assert user.role == Role.INSTITUTION_MANAGER
    assert user.institution.name == "嘉善富民村镇银行股份有限公司"
    assert user.branch.name == "魏塘支行"
