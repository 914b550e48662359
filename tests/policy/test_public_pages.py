"""政策发布 and 公示 without login: what anyone sees, what nobody sees, and
the objection form (errors by field, success, a closed notice, the limit)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache

from chanrong.policy import services
from chanrong.policy.models import Objection

from .pagekit import client_for, in_notice, last_year, loan, programme

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    """The objection limit counts in the cache; every test starts at zero."""
    cache.clear()
    yield
    cache.clear()


def test_programmes_in_force_are_public_and_drafts_are_not(policy_world):
    pw = policy_world
    live = programme(pw, eligibility={"sizes": ["small", "micro"], "min_tax_grade": "B"})
    draft = programme(pw, name="嘉善县尚未发布的贴息", publish=False)
    closed = programme(
        pw,
        name="嘉善县上一期担保费补贴",
        kind="guarantee_fee",
        params={"method": "share", "fee_rate_ceiling": "1", "share": "50"},
    )
    services.close_programme(pw.user("fin_admin"), closed)
    anonymous = client_for(None)

    page = anonymous.get("/policy/")
    assert page.status_code == 200
    text = page.content.decode()
    assert live.name in text and live.basis in text
    assert draft.name not in text
    # Closed within the last months: listed apart, still readable.
    assert 'data-testid="closed-programmes"' in text and closed.name in text

    detail = anonymous.get(f"/policy/programmes/{live.pk}/")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert (
        "按放款日适用的 1 年期 LPR 的 50% 贴息，按实际天数/360 计息，"
        "单笔贷款最高 20 万元，每户每年最高 50 万元"
    ) in body
    assert "小型、微型企业" in body
    assert "纳税信用等级 B 级及以上" in body
    assert "未列入失信黑名单" in body
    assert live.basis in body
    # Nothing committed yet: the whole appropriation remains.
    assert "10,000,000.00" in body
    assert "企业登录后申请" in body
    assert anonymous.get(f"/policy/programmes/{draft.pk}/").status_code == 404
    assert anonymous.get(f"/policy/programmes/{closed.pk}/").status_code == 200
    assert anonymous.get("/policy/programmes/999999/").status_code == 404


def test_filter_by_kind_and_region(policy_world):
    pw = policy_world
    interest = programme(pw)
    fee = programme(
        pw,
        "guarantee_fee",
        {"method": "points", "fee_rate_ceiling": "1", "points": "0.5"},
        name="嘉善县担保费补贴",
    )
    y = last_year()
    jiangsu = services.create_programme(
        pw.user("gov_jiangsu"),
        {
            "kind": "award",
            "name": "江苏省上市挂牌奖励",
            "basis": "苏工信〔2026〕9号",
            "starts_on": f"{y}-01-01",
            "ends_on": f"{y + 2}-12-31",
            "params": {"items": [{"code": "main", "label": "主板上市", "amount": "2000000"}]},
        },
    )
    services.set_appropriation(pw.user("gov_jiangsu"), jiangsu, y, Decimal("5000000"))
    services.publish_programme(pw.user("gov_jiangsu"), jiangsu)
    anonymous = client_for(None)

    def names(query: str) -> str:
        response = anonymous.get(f"/policy/{query}")
        assert response.status_code == 200
        return response.content.decode()

    by_kind = names("?kind=guarantee_fee")
    assert fee.name in by_kind and interest.name not in by_kind
    # 嘉善 shows its own programmes; a provincial one elsewhere does not apply.
    jiashan = names("?region=330421")
    assert interest.name in jiashan and fee.name in jiashan and jiangsu.name not in jiashan
    # A province lists the programmes inside it.
    zhejiang = names("?region=330000")
    assert interest.name in zhejiang and jiangsu.name not in zhejiang
    # A stale or made-up filter value filters nothing (and never fails).
    everything = names("?region=999999&kind=nonsense")
    assert interest.name in everything and jiangsu.name in everything
    # The award's items read as a list.
    detail = anonymous.get(f"/policy/programmes/{jiangsu.pk}/").content.decode()
    assert "主板上市：200 万元" in detail


def test_public_notice_shows_who_and_how_much_but_nothing_private(policy_world):
    pw = policy_world
    app = in_notice(pw, no="JS-PRIVATE-0042", rate=Decimal("3.87"))
    page = client_for(None).get("/policy/notices/")
    assert page.status_code == 200
    text = page.content.decode()
    assert app.enterprise.name in text
    assert app.programme.name in text
    assert f"{app.amount:,.2f}" in text
    assert app.notice_starts_on.isoformat() in text and app.notice_ends_on.isoformat() in text
    for private in ("JS-PRIVATE-0042", "3.87", "90,000", "90000", "按公式计算", "贴息天数"):
        assert private not in text, private
    # The programme page never lists applicants either.
    detail = client_for(None).get(f"/policy/programmes/{app.programme_id}/").content.decode()
    assert app.enterprise.name not in detail and "JS-PRIVATE-0042" not in detail
    # The remaining budget is the appropriation less what the 复核 committed.
    assert f"{Decimal('10000000') - app.amount:,.2f}" in detail


def test_objection_errors_by_field_then_success(policy_world):
    pw = policy_world
    app = in_notice(pw)
    anonymous = client_for(None)
    url = f"/policy/notices/{app.pk}/objection/"
    assert anonymous.get(url).status_code == 200

    empty = anonymous.post(url, {"name": "", "contact": "  ", "text": ""})
    assert empty.status_code == 200
    errors = empty.context["form"].errors
    assert set(errors) == {"name", "contact", "text"}
    assert all("必填" in errors[k][0] for k in errors)
    too_long = anonymous.post(url, {"name": "张" * 65, "contact": "13800000000", "text": "x"})
    assert "不超过 64 个字符" in too_long.context["form"].errors["name"][0]
    assert not Objection.objects.exists()

    done = anonymous.post(
        url, {"name": "李明", "contact": "13800000000", "text": "该企业已停产，不应享受贴息"}
    )
    assert done.status_code == 302 and done["Location"] == "/policy/notices/"
    objection = Objection.objects.get()
    assert (objection.application_id, objection.name) == (app.pk, "李明")


def test_objection_to_what_is_not_in_notice_is_404_or_a_message_never_500(policy_world):
    pw = policy_world
    prog = programme(pw, requires_bank_confirmation=False)
    app = services.apply(
        pw.user("ent_user"),
        prog,
        {"period_start": f"{last_year()}-01-10", "period_end": f"{last_year()}-03-31"},
        loan=loan(pw),
    )
    anonymous = client_for(None)
    assert anonymous.get(f"/policy/notices/{app.pk}/objection/").status_code == 404
    posted = anonymous.post(
        f"/policy/notices/{app.pk}/objection/", {"name": "a", "contact": "b", "text": "c"}
    )
    assert posted.status_code == 302
    assert anonymous.get("/policy/notices/abc/objection/").status_code == 404
    assert not Objection.objects.exists()


def test_objections_are_limited_per_address(policy_world, settings):
    settings.CHANRONG_OBJECTIONS_PER_HOUR = 2
    app = in_notice(policy_world)
    anonymous = client_for(None)
    url = f"/policy/notices/{app.pk}/objection/"
    data = {"name": "王五", "contact": "13900000000", "text": "重复申报"}
    assert anonymous.post(url, data).status_code == 302
    assert anonymous.post(url, data).status_code == 302
    third = anonymous.post(url, data)
    assert third.status_code == 429
    assert "提交过于频繁" in third.context["form"].errors["text"][0]
    assert Objection.objects.count() == 2


def test_enterprise_sees_its_eligibility_on_the_programme_page(policy_world):
    pw = policy_world
    fits = programme(pw)
    not_for_it = programme(pw, name="仅限大型企业的贴息", eligibility={"sizes": ["large"]})
    ent = client_for(pw.user("ent_user"))
    page = ent.get(f"/policy/programmes/{fits.pk}/").content.decode()
    assert 'data-testid="eligibility-panel"' in page and "符合条件" in page
    assert f"/policy/apply/{fits.pk}/" in page
    other = ent.get(f"/policy/programmes/{not_for_it.pk}/").content.decode()
    assert "不符合条件" in other and "大型" in other
    # A bank user reads the same public page, without an eligibility verdict.
    bank = client_for(pw.user("bank_staff")).get(f"/policy/programmes/{fits.pk}/")
    assert (
        bank.status_code == 200 and 'data-testid="eligibility-panel"' not in bank.content.decode()
    )
