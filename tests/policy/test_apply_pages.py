"""The enterprise's application through the web: the loan from a platform
disbursement (nothing retyped), the live preview (which writes nothing),
submission, refusals with their reasons or the 409 message, attachments,
免申即享 confirmation, 我的政策, and the bank's 待确认 page."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chanrong.core.models import AuditEntry, Notification
from chanrong.policy import services
from chanrong.policy.models import Application, ApplicationState, Attachment, Loan

from .pagekit import PDF, client_for, disbursed_demand, last_year, loan, period, programme

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _counts() -> tuple[int, ...]:
    return (
        Application.objects.count(),
        Loan.objects.count(),
        AuditEntry.objects.count(),
        Notification.objects.count(),
        Attachment.objects.count(),
    )


def test_apply_with_a_platform_loan_end_to_end(policy_world, media):
    pw = policy_world
    prog = programme(pw)
    demand = disbursed_demand(pw)
    ent = client_for(pw.user("ent_user"))

    # Step 2: the disbursed demand is offered with the bank's facts.
    page = ent.get(f"/policy/apply/{prog.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f'data-demand="{demand.pk}"' in text and "3,000,000.00" in text and "3.25%" in text

    chosen = ent.post(f"/policy/apply/{prog.pk}/", {"action": "demand", "demand": demand.pk})
    assert chosen.status_code == 302
    loan_row = Loan.objects.get(demand=demand)
    assert chosen["Location"] == f"/policy/apply/{prog.pk}/claim/?loan={loan_row.pk}"
    assert (loan_row.principal, loan_row.rate, loan_row.institution_id) == (
        Decimal("3000000"),
        Decimal("3.25"),
        pw.world.bank.pk,
    )

    # Step 3: the loan's facts are shown, not asked for.
    claim_page = ent.get(chosen["Location"])
    assert claim_page.status_code == 200
    body = claim_page.content.decode()
    assert 'data-testid="loan-facts"' in body and "3,000,000.00" in body
    assert 'name="principal"' not in body and 'name="rate"' not in body

    # The preview computes line by line and writes nothing.
    data = {"loan": loan_row.pk, **period(), "paid_cost": "60000"}
    before = _counts()
    preview = ent.post(f"/policy/apply/{prog.pk}/preview/", data, HTTP_HX_REQUEST="true")
    assert preview.status_code == 200
    fragment = preview.content.decode()
    assert "<html" not in fragment
    assert 'data-testid="calculation"' in fragment and "按公式计算" in fragment
    assert "四舍五入到分" in fragment
    shown = preview.context["preview"].result.amount
    assert shown > 0 and f"{shown:,.2f}" in fragment
    assert _counts() == before

    # Submit: the same amount, waiting for the bank.
    submitted = ent.post(f"/policy/apply/{prog.pk}/claim/", data)
    assert submitted.status_code == 302
    app = Application.objects.get()
    assert submitted["Location"] == f"/policy/applications/{app.pk}/materials/"
    assert app.state == ApplicationState.BANK_PENDING and app.amount == shown

    # Step 4: materials, checked like the pilot application's.
    materials = ent.get(submitted["Location"])
    assert materials.status_code == 200 and 'data-testid="attachment-form"' in materials.text
    uploaded = ent.post(
        submitted["Location"],
        {"slot": "loan_contract", "file": SimpleUploadedFile("借款合同.pdf", PDF)},
    )
    assert uploaded.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.slot, attachment.original_name, attachment.size) == (
        "loan_contract",
        "借款合同.pdf",
        len(PDF),
    )
    stored = Path(attachment.file.path)
    assert stored.is_file() and Path(media) in stored.parents and "借款合同" not in stored.name

    download = ent.get(f"/policy/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    # Those who may see the application may download; others get a 404.
    assert (
        client_for(pw.user("bank_staff")).get(f"/policy/attachments/{attachment.pk}/").status_code
        == 200
    )
    for name in ("ent2_user", "bank2_staff", "gov_jiangsu"):
        response = client_for(pw.user(name)).get(f"/policy/attachments/{attachment.pk}/")
        assert response.status_code == 404, name
    assert client_for(pw.user("ent2_user")).get(submitted["Location"]).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("程序.exe", b"MZ\x90\x00", "文件类型不符"),
        ("付息凭证.pdf", b"<html><script>alert(1)</script>", "内容与扩展名"),
        ("空.pdf", b"", "空文件"),
    ],
)
def test_uploads_of_the_wrong_type_are_refused_by_field(
    policy_world, media, name, content, message
):
    pw = policy_world
    app = services.apply(pw.user("ent_user"), programme(pw), period(), loan=loan(pw))
    ent = client_for(pw.user("ent_user"))
    response = ent.post(
        f"/policy/applications/{app.pk}/materials/",
        {"slot": "interest_receipt", "file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 422
    assert message in response.context["form"].errors["file"][0]
    assert not Attachment.objects.exists()
    assert not Path(media).exists() or not any(p.is_file() for p in Path(media).rglob("*"))
    # Another enterprise cannot even reach the page.
    other = client_for(pw.user("ent2_user")).post(
        f"/policy/applications/{app.pk}/materials/",
        {"slot": "interest_receipt", "file": SimpleUploadedFile("a.pdf", PDF)},
    )
    assert other.status_code == 404


def test_preview_without_javascript_renders_the_whole_page(policy_world):
    pw = policy_world
    prog = programme(pw)
    row = loan(pw)
    ent = client_for(pw.user("ent_user"))
    response = ent.post(f"/policy/apply/{prog.pk}/preview/", {"loan": row.pk, **period()})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page and 'data-testid="claim-form"' in page
    assert 'data-testid="calculation"' in page and 'data-testid="calc-estimate"' in page
    # Field errors of the claim show in the preview, named by their label.
    bad = ent.post(
        f"/policy/apply/{prog.pk}/preview/",
        {
            "loan": row.pk,
            "period_start": f"{last_year()}-06-30",
            "period_end": f"{last_year()}-01-01",
        },
        HTTP_HX_REQUEST="true",
    )
    assert bad.status_code == 200
    assert "截止日：截止日早于起始日" in bad.content.decode()
    assert not Application.objects.exists()


def test_an_ineligible_loan_shows_every_reason_and_writes_nothing(policy_world):
    pw = policy_world
    y = last_year()
    prog = programme(
        pw, eligibility={"loan_date_from": f"{y}-02-01", "term_max_months": 6, "sizes": ["micro"]}
    )
    row = loan(pw)
    ent = client_for(pw.user("ent_user"))
    data = {"loan": row.pk, **period(), "paid_cost": "50000"}
    before = _counts()
    preview = ent.post(f"/policy/apply/{prog.pk}/preview/", data, HTTP_HX_REQUEST="true")
    fragment = preview.content.decode()
    assert 'data-testid="preview-reasons"' in fragment
    assert f"{y}-02-01" in fragment and "6 个月" in fragment and "微型" in fragment
    submitted = ent.post(f"/policy/apply/{prog.pk}/claim/", data)
    assert submitted.status_code == 422
    reasons = submitted.context["reasons"]
    assert any(f"{y}-02-01" in r for r in reasons)
    assert any("6 个月" in r for r in reasons)
    assert any("微型" in r for r in reasons)
    assert 'data-testid="reasons"' in submitted.content.decode()
    assert _counts() == before


def test_a_second_application_for_the_same_loan_and_period_shows_the_409(policy_world):
    pw = policy_world
    prog = programme(pw)
    row = loan(pw)
    first = services.apply(pw.user("ent_user"), prog, period(), loan=row)
    ent = client_for(pw.user("ent_user"))
    data = {
        "loan": row.pk,
        "period_start": f"{last_year()}-03-01",
        "period_end": f"{last_year()}-03-31",
        "paid_cost": "10000",
    }
    preview = ent.post(f"/policy/apply/{prog.pk}/preview/", data, HTTP_HX_REQUEST="true")
    assert "已有申请" in preview.context["preview"].duplicate
    before = _counts()
    response = ent.post(f"/policy/apply/{prog.pk}/claim/", data)
    assert response.status_code == 409
    assert "已有申请" in response.context["conflict"]
    assert 'data-testid="conflict"' in response.content.decode()
    assert _counts() == before
    assert list(Application.objects.values_list("pk", flat=True)) == [first.pk]


def test_register_an_off_platform_loan_with_errors_by_field(policy_world):
    pw = policy_world
    prog = programme(pw)
    ent = client_for(pw.user("ent_user"))
    url = f"/policy/apply/{prog.pk}/"
    bad = ent.post(
        url,
        {
            "action": "register",
            "institution_id": "",
            "contract_no": "",
            "principal": "-5",
            "rate": "abc",
            "loan_date": f"{last_year()}-05-01",
            "maturity_date": f"{last_year()}-04-01",
        },
    )
    assert bad.status_code == 200
    errors = bad.context["loan_form"].errors
    assert {"institution_id", "contract_no", "principal", "rate", "maturity_date"} <= set(errors)
    assert not Loan.objects.exists()
    good = {
        "action": "register",
        "institution_id": pw.world.bank.pk,
        "contract_no": "JSNS-2025-0815",
        "principal": "2000000",
        "rate": "3.6",
        "loan_date": f"{last_year()}-01-15",
        "maturity_date": f"{last_year() + 1}-01-15",
        "kind": "debt",
    }
    done = ent.post(url, good)
    assert done.status_code == 302
    registered = Loan.objects.get()
    assert registered.confirmed_at is None and registered.source == "off_platform"
    # The same contract twice: a 409 beside the contract number, nothing written.
    again = ent.post(url, good)
    assert again.status_code == 409
    assert "已登记" in again.context["loan_form"].errors["contract_no"][0]
    assert Loan.objects.count() == 1

    # The bank sees it waiting and confirms it; another bank does not see it.
    bank = client_for(pw.user("bank_staff"))
    assert "JSNS-2025-0815" in bank.get("/policy/bank/").content.decode()
    other = client_for(pw.user("bank2_staff"))
    assert "JSNS-2025-0815" not in other.get("/policy/bank/").content.decode()
    assert other.post(f"/policy/bank/loans/{registered.pk}/confirm/").status_code == 404
    assert bank.post(f"/policy/bank/loans/{registered.pk}/confirm/").status_code == 302
    registered.refresh_from_db()
    assert registered.confirmed_at is not None


def test_bank_confirms_the_paid_interest_and_sees_the_lines(policy_world):
    pw = policy_world
    prog = programme(pw)
    app = services.apply(pw.user("ent_user"), prog, period(), loan=loan(pw, no="JS-CONF-1"))
    assert app.state == ApplicationState.BANK_PENDING
    bank = client_for(pw.user("bank_staff"))
    page = bank.get("/policy/bank/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f'data-application="{app.pk}"' in text and "按公式计算" in text and "JS-CONF-1" in text
    # Another bank neither sees nor confirms it.
    other = client_for(pw.user("bank2_staff"))
    assert f'data-application="{app.pk}"' not in other.get("/policy/bank/").content.decode()
    assert (
        other.post(
            f"/policy/bank/applications/{app.pk}/confirm/", {f"a{app.pk}-paid_cost": "1"}
        ).status_code
        == 404
    )
    # A bad figure is an error beside the field; nothing moves.
    bad = bank.post(f"/policy/bank/applications/{app.pk}/confirm/", {f"a{app.pk}-paid_cost": "-3"})
    assert bad.status_code == 422
    assert "非负" in bad.content.decode()
    app.refresh_from_db()
    assert app.state == ApplicationState.BANK_PENDING
    done = bank.post(
        f"/policy/bank/applications/{app.pk}/confirm/", {f"a{app.pk}-paid_cost": "1000"}
    )
    assert done.status_code == 302
    app.refresh_from_db()
    assert app.state == ApplicationState.SUBMITTED
    assert app.paid_cost == Decimal("1000") and app.amount <= Decimal("1000")
    # Enterprises and government have no 待确认 page.
    assert client_for(pw.user("ent_user")).get("/policy/bank/").status_code == 404


def test_mine_splits_programmes_and_names_the_missing_conditions(policy_world):
    pw = policy_world
    fits = programme(pw, name="嘉善县普惠贴息")
    large_only = programme(pw, name="大型企业技改贴息", eligibility={"sizes": ["large"]})
    listed_only = programme(pw, name="白名单企业贴息", eligibility={"min_tax_grade": "A"})
    app = services.apply(pw.user("ent_user"), fits, period(), loan=loan(pw))
    response = client_for(pw.user("ent_user")).get("/policy/mine/")
    assert response.status_code == 200
    qualified = [p.pk for p in response.context["qualified"]]
    missed = {p.pk: p.eligibility.messages for p in response.context["missed"]}
    assert qualified == [fits.pk]
    assert set(missed) == {large_only.pk, listed_only.pk}
    assert any("大型" in m for m in missed[large_only.pk])
    assert any("纳税信用等级" in m for m in missed[listed_only.pk])
    page = response.content.decode()
    assert f'data-application="{app.pk}"' in page and "待银行确认" in page
    assert f"/policy/apply/{fits.pk}/" in page
    # Not an enterprise: no such page; not signed in: to the login page.
    assert client_for(pw.user("bank_staff")).get("/policy/mine/").status_code == 404
    anonymous = client_for(None).get("/policy/mine/")
    assert anonymous.status_code == 302 and "/accounts/login" in anonymous["Location"]
    assert client_for(None).get(f"/policy/apply/{fits.pk}/").status_code == 302
    assert client_for(pw.user("gov_jiashan")).get(f"/policy/apply/{fits.pk}/").status_code == 404


def test_mine_reads_the_enterprise_once_whatever_the_number_of_programmes(policy_world):
    """我的政策 weighs every programme in force against one enterprise: its
    facts (grade, qualifications, lists, chains, carbon grade …) are read
    once, so three more programmes add no statement per programme."""
    pw = policy_world
    programme(pw, name="嘉善县普惠贴息")
    client = client_for(pw.user("ent_user"))
    client.get("/policy/mine/")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/policy/mine/").status_code == 200
    for n in range(3):
        programme(pw, name=f"嘉善县贴息 {n}", eligibility={"sizes": ["large"]})
    client.get("/policy/mine/")  # each programme's parsed conditions are cached once read
    with CaptureQueriesContext(connection) as four:
        response = client.get("/policy/mine/")
    assert len(response.context["qualified"]) + len(response.context["missed"]) == 4
    assert len(four) == len(one)


def test_auto_built_application_is_confirmed_from_mine(policy_world):
    pw = policy_world
    prog = programme(pw, auto_apply=True)
    row = loan(pw)
    y = last_year()
    proposed = Application.objects.create(
        programme=prog,
        enterprise=pw.world.ent,
        institution=pw.world.bank,
        loan=row,
        year=y,
        period_start=f"{y}-01-10",
        period_end=f"{y}-06-30",
        amount=Decimal("1000.00"),
        state=ApplicationState.PROPOSED,
        auto_built=True,
    )
    ent = client_for(pw.user("ent_user"))
    page = ent.get("/policy/mine/").content.decode()
    assert f'action="/policy/applications/{proposed.pk}/confirm/"' in page
    # Someone else cannot confirm it (it is not even visible to them).
    assert (
        client_for(pw.user("ent2_user"))
        .post(f"/policy/applications/{proposed.pk}/confirm/")
        .status_code
        == 404
    )
    done = ent.post(f"/policy/applications/{proposed.pk}/confirm/", {"next": "mine"})
    assert done.status_code == 302 and done["Location"] == "/policy/mine/"
    proposed.refresh_from_db()
    assert proposed.state == ApplicationState.BANK_PENDING


def test_award_without_a_loan_picks_its_item(policy_world):
    pw = policy_world
    prog = programme(
        pw,
        "award",
        {"items": [{"code": "main", "label": "主板上市", "amount": "2000000"}]},
        name="上市奖励",
    )
    ent = client_for(pw.user("ent_user"))
    page = ent.get(f"/policy/apply/{prog.pk}/claim/")
    assert page.status_code == 200 and "主板上市：200 万元" in page.content.decode()
    preview = ent.post(
        f"/policy/apply/{prog.pk}/preview/", {"award_item": "main"}, HTTP_HX_REQUEST="true"
    )
    assert "2,000,000.00" in preview.content.decode()
    done = ent.post(f"/policy/apply/{prog.pk}/claim/", {"award_item": "main"})
    assert done.status_code == 302
    app = Application.objects.get()
    assert (app.award_item, app.loan_id, app.amount) == ("main", None, Decimal("2000000"))
    materials = ent.get(done["Location"]).content.decode()
    assert "主板上市" in materials
