"""抽贷断贷会商: who may ask (an enterprise about its loans, a bank about its
own), the agency's path request → accept → convene → decide → follow up →
close, the wrong actor refused, bad input as field errors, visibility, and
the pages and API for each role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chanrong.accounts.services import create_token
from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import AuditEntry, Notification
from chanrong.risk.models import Consultation, ConsultationState
from chanrong.risk.services import consultation as svc

from .conftest import reported

pytestmark = pytest.mark.django_db


def today():
    """Read at use, not at import: collection can happen before Beijing's
    midnight and the test after it (CI at 16:00 UTC), when a date taken at
    import is the day before the services' own `localdate()`."""
    return timezone.localdate()


@pytest.fixture
def loans(world):
    """ent owes bank 100 万 and bank2 50 万; ent2 owes bank2."""
    own = reported(world, contract_no="JS-C-1")
    other = reported(world, user="bank2_staff", contract_no="GS-C-1", principal="500000.00")
    ent2_loan = reported(world, user="bank2_staff", contract_no="GS-C-2", uscc=world.ent2.uscc)
    return own, other, ent2_loan


def asked(world, loans, user="bank_staff") -> Consultation:
    return svc.request(
        world.user(user), loan_ids=[loans[0].pk], kind="cut", reason="拟压降授信，企业经营困难"
    )


def decided(world, loans) -> Consultation:
    gov = world.user("gov_jiashan")
    c = asked(world, loans)
    svc.accept(gov, c)
    svc.convene(gov, c, meeting_on=today(), meeting_place="县经信局三楼会议室")
    svc.record_meeting(gov, c, meeting_on=today(), minutes="各行通报授信情况，企业说明订单恢复")
    svc.decide(
        gov,
        c,
        decision="renew",
        text="各行维持授信，到期续贷",
        commitments={world.bank.pk: "到期续贷 100 万", world.bank2.pk: "维持 50 万授信"},
    )
    return c


# --- service rules ------------------------------------------------------------------------------


def test_full_path_with_participants_commitments_and_audit(world, loans):
    c = decided(world, loans)
    assert c.state == ConsultationState.DECIDED
    assert c.agency == world.gov_jiashan
    pts = {pt.institution_id: pt for pt in c.participants.all()}
    assert set(pts) == {world.bank.pk, world.bank2.pk}  # both banks with exposure to ent
    assert pts[world.bank2.pk].commitment == "维持 50 万授信"
    row = svc.follow_up(world.user("bank2_staff"), c, on=today(), note="已办理", kept=True)
    assert row.institution == world.bank2
    pts[world.bank2.pk].refresh_from_db()
    assert pts[world.bank2.pk].commitment_kept is True
    svc.follow_up(world.user("gov_jiashan"), c, on=today(), note="电话回访企业")
    svc.close(world.user("gov_jiashan"), c, closed_on=today(), note="各方已履行承诺")
    c.refresh_from_db()
    assert c.state == ConsultationState.CLOSED
    actions = set(
        AuditEntry.objects.filter(action__startswith="risk.consultation.").values_list(
            "action", flat=True
        )
    )
    assert {
        "risk.consultation.request",
        "risk.consultation.accept",
        "risk.consultation.convene",
        "risk.consultation.meeting",
        "risk.consultation.decide",
        "risk.consultation.follow_up",
        "risk.consultation.close",
    } <= actions
    assert Notification.objects.filter(
        recipient=world.user("gov_jiashan"), verb="risk.consultation"
    ).exists()


def test_enterprise_may_ask_about_any_of_its_loans_bank_only_its_own(world, loans):
    c = svc.request(
        world.user("ent_user"),
        loan_ids=[loans[0].pk, loans[1].pk],
        kind="no_renewal",
        reason="两行拟到期不续贷",
    )
    assert c.requesting_institution is None and c.loans.count() == 2
    with pytest.raises(NotFound):
        svc.request(world.user("bank_staff"), loan_ids=[loans[1].pk], kind="cut", reason="x")
    with pytest.raises(NotFound):
        svc.request(world.user("ent_user"), loan_ids=[loans[2].pk], kind="cut", reason="x")
    with pytest.raises(NotAllowed):
        svc.request(world.user("gov_jiashan"), loan_ids=[loans[0].pk], kind="cut", reason="x")


def test_bad_request_is_field_errors_and_writes_nothing(world, loans):
    staff = world.user("bank_staff")
    with pytest.raises(ValidationFailed) as err:
        svc.request(staff, loan_ids=[loans[0].pk], kind="cut", reason="  ")
    assert err.value.errors[0].field == "reason"
    with pytest.raises(ValidationFailed) as err:
        svc.request(staff, loan_ids=[], kind="cut", reason="x")
    assert err.value.errors[0].field == "loan_ids"
    with pytest.raises(ValidationFailed) as err:
        svc.request(staff, loan_ids=[loans[0].pk], kind="bogus", reason="x")
    assert err.value.errors[0].field == "kind"
    asked(world, loans)
    with pytest.raises(ValidationFailed) as err:  # the loan is already under consultation
        asked(world, loans)
    assert err.value.errors[0].field == "loan_ids"
    assert Consultation.objects.count() == 1


def test_wrong_actors_are_refused(world, loans):
    c = asked(world, loans)
    with pytest.raises(NotAllowed):
        svc.accept(world.user("gov_jiangsu"), c)  # another province
    with pytest.raises(NotAllowed):
        svc.accept(world.user("bank_staff"), c)
    with pytest.raises(NotAllowed):
        svc.withdraw(world.user("ent_user"), c)  # the bank asked, not the enterprise
    svc.accept(world.user("gov_jiashan"), c)
    with pytest.raises(Conflict):
        svc.withdraw(world.user("bank_staff"), c)  # too late once accepted
    svc.convene(world.user("gov_jiashan"), c, meeting_on=today(), meeting_online=True)
    with pytest.raises(NotAllowed):
        svc.record_position(world.user("ent_user"), c, "不同意")
    svc.record_position(world.user("bank2_staff"), c, "我行拟维持授信")
    with pytest.raises(NotAllowed):
        svc.decide(world.user("bank_staff"), c, decision="renew", text="x")
    c.refresh_from_db()
    assert c.state == ConsultationState.CONVENED


def test_decision_without_text_and_dates_in_wrong_order(world, loans):
    gov = world.user("gov_jiashan")
    c = asked(world, loans)
    svc.accept(gov, c)
    with pytest.raises(ValidationFailed) as err:
        svc.convene(gov, c, meeting_on=today() - timedelta(days=3), meeting_place="会议室")
    assert {e.field for e in err.value.errors} == {"meeting_on"}
    svc.convene(gov, c, meeting_on=today(), meeting_place="会议室")
    with pytest.raises(ValidationFailed) as err:
        svc.decide(gov, c, decision="renew", text="")
    assert {"decision_text", "minutes"} <= {e.field for e in err.value.errors}
    svc.record_meeting(gov, c, meeting_on=today(), minutes="纪要")
    with pytest.raises(ValidationFailed) as err:
        svc.decide(gov, c, decision="renew", text="续贷", decided_on=today() - timedelta(days=1))
    assert {e.field for e in err.value.errors} == {"decided_on"}
    svc.decide(gov, c, decision="renew", text="续贷")
    with pytest.raises(ValidationFailed) as err:
        svc.follow_up(gov, c, on=today() - timedelta(days=1), note="回访")
    assert err.value.errors[0].field == "on"
    with pytest.raises(ValidationFailed) as err:  # an institution must say whether it kept it
        svc.follow_up(world.user("bank_staff"), c, on=today(), note="已续贷")
    assert err.value.errors[0].field == "kept"


def test_withdraw_and_decline(world, loans):
    c = svc.request(world.user("ent_user"), loan_ids=[loans[0].pk], kind="cut", reason="银行拟抽贷")
    svc.withdraw(world.user("ent_user"), c)
    assert c.state == ConsultationState.WITHDRAWN
    c2 = asked(world, loans)
    with pytest.raises(ValidationFailed):
        svc.decline(world.user("gov_jiashan"), c2, "")
    svc.decline(world.user("gov_jiashan"), c2, "非本县企业贷款")
    assert c2.state == ConsultationState.DECLINED


def test_visibility(world, loans):
    c = asked(world, loans)

    def sees(name):
        return Consultation.objects.visible_to(world.user(name)).filter(pk=c.pk).exists()

    assert sees("bank_staff") and sees("ent_user") and sees("gov_jiashan") and sees("gov_zhejiang")
    assert not sees("bank2_staff")  # not convened yet
    assert not sees("ent2_user") and not sees("gov_jiangsu")
    svc.accept(world.user("gov_jiashan"), c)
    svc.convene(world.user("gov_jiashan"), c, meeting_on=today(), meeting_online=True)
    assert sees("bank2_staff")


# --- pages --------------------------------------------------------------------------------------


def _client(world, name):
    client = Client()
    client.force_login(world.user(name))
    return client


def test_pages_for_each_role_and_the_forms_they_may_use(world, loans):
    c = decided(world, loans)
    detail = reverse("risk:consultation", args=[c.pk])
    for name in ("gov_jiashan", "bank_staff", "bank2_staff", "ent_user", "admin"):
        client = _client(world, name)
        assert client.get(reverse("risk:consultations")).status_code == 200
        page = client.get(detail)
        assert page.status_code == 200, name
        assert "各行维持授信，到期续贷" in page.content.decode()
    gov_page = _client(world, "gov_jiashan").get(detail).content.decode()
    assert 'data-testid="form-close"' in gov_page and 'data-testid="form-follow-up"' in gov_page
    ent_page = _client(world, "ent_user").get(detail).content.decode()
    assert "form-close" not in ent_page and "form-follow-up" not in ent_page
    for name in ("ent2_user", "gov_jiangsu"):
        assert _client(world, name).get(detail).status_code == 404
    listed = _client(world, "ent2_user").get(reverse("risk:consultations")).content.decode()
    assert c.reference not in listed


def test_request_from_the_loan_page_and_bad_input_shows_field_errors(world, loans):
    client = _client(world, "bank_staff")
    loan_page = client.get(reverse("risk:loan", args=[loans[0].pk])).content.decode()
    assert 'data-testid="consultation-request-link"' in loan_page
    new = reverse("risk:consultation_new")
    assert client.get(new, {"loan": loans[1].pk}).status_code == 404  # another bank's loan
    bad = client.post(new, {"loan": loans[0].pk, "loan_ids": [loans[0].pk], "kind": "cut"})
    assert bad.status_code == 422 and "请填写情况说明" in bad.content.decode()
    ok = client.post(
        new,
        {"loan": loans[0].pk, "loan_ids": [loans[0].pk], "kind": "cut", "reason": "拟抽贷"},
    )
    c = Consultation.objects.get()
    assert ok.status_code == 302 and ok.url == reverse("risk:consultation", args=[c.pk])
    gov = _client(world, "gov_jiashan")
    gov.post(reverse("risk:consultation_action", args=[c.pk, "accept"]))
    wrong = gov.post(
        reverse("risk:consultation_action", args=[c.pk, "convene"]),
        {"meeting_on": (today() - timedelta(days=1)).isoformat(), "meeting_place": "会议室"},
    )
    assert wrong.status_code == 422 and "会商日期不能早于受理日期" in wrong.content.decode()
    denied = _client(world, "ent_user").post(
        reverse("risk:consultation_action", args=[c.pk, "convene"]),
        {"meeting_on": today().isoformat(), "meeting_place": "会议室"},
    )
    assert denied.status_code == 403


def test_dashboard_shows_warnings_by_month_and_open_consultations(world, loans):
    from chanrong.risk.models import Alert, RuleKind, WarningRule

    rule = WarningRule.objects.create(
        agency=world.gov_jiashan, region_prefix="330421", name="逾期", kind=RuleKind.OVERDUE,
        severity="red",
    )  # fmt: skip
    Alert.objects.create(
        rule=rule, enterprise=world.ent, severity="red", detail="逾期 30 天", opened_on=today(),
        state="disposed", disposed_at=timezone.now(), acknowledged_at=timezone.now(),
    )  # fmt: skip
    asked(world, loans)
    page = _client(world, "gov_jiashan").get(reverse("risk:home"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="risk-alert-months"' in html and "risk-alert-chart" in html
    row = f'<th scope="row">{today():%Y-%m}</th><td class="num">1</td><td class="num">1</td><td class="num">1</td>'
    assert row in html
    assert '<a href="/risk/consultations/?state=open">1 ' in html or '?state=open">1' in html


# --- API ----------------------------------------------------------------------------------------

API = "/api/v1/risk/consultations"


class Caller:
    def __init__(self, user):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {create_token(None, user, 'test').raw}"}

    def get(self, path=""):
        return self.client.get(API + path, headers=self.headers)

    def post(self, path, data=None):
        return self.client.post(
            API + path, data or {}, content_type="application/json", headers=self.headers
        )


def test_api_path_errors_and_visibility(world, loans):
    bank = Caller(world.user("bank_staff"))
    assert (
        bank.post("", {"loan_ids": [loans[1].pk], "kind": "cut", "reason": "x"}).status_code == 404
    )
    bad = bank.post("", {"loan_ids": [loans[0].pk], "kind": "cut", "reason": ""})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("reason")
    made = bank.post("", {"loan_ids": [loans[0].pk], "kind": "cut", "reason": "拟抽贷"})
    assert made.status_code == 201
    cid = made.json()["id"]
    assert Caller(world.user("bank2_staff")).get(f"/{cid}").status_code == 404
    assert Caller(world.user("ent2_user")).get(f"/{cid}").status_code == 404
    gov = Caller(world.user("gov_jiashan"))
    assert Caller(world.user("ent_user")).post(f"/{cid}/accept").status_code == 403
    assert gov.post(f"/{cid}/accept").status_code == 200
    assert gov.post(f"/{cid}/accept").status_code == 409
    convened = gov.post(
        f"/{cid}/convene", {"meeting_on": today().isoformat(), "meeting_online": True}
    )
    assert convened.status_code == 200
    assert {p["institution_id"] for p in convened.json()["participants"]} == {
        world.bank.pk,
        world.bank2.pk,
    }
    assert (
        gov.post(
            f"/{cid}/meeting", {"meeting_on": today().isoformat(), "minutes": "纪要"}
        ).status_code
        == 200
    )
    no_text = gov.post(f"/{cid}/decision", {"decision": "renew", "decision_text": ""})
    assert no_text.status_code == 422
    assert no_text.json()["errors"][0]["field"] == "decision_text"
    ok = gov.post(
        f"/{cid}/decision",
        {
            "decision": "extend",
            "decision_text": "展期六个月",
            "commitments": [{"institution_id": world.bank.pk, "commitment": "展期六个月"}],
        },
    )
    assert ok.status_code == 200 and ok.json()["state"] == "decided"
    assert [c["id"] for c in Caller(world.user("bank2_staff")).get("").json()["results"]] == [cid]
