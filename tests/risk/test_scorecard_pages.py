"""Scorecard pages and API: versions with their metrics, the points table,
approval by a government admin (refused below the AUC floor with the
reason), an enterprise's score scoped like the rest of risk, and the
low-score warning rule reading only the live version's latest scores.

The versions come from the real trainer fitted on a tiny synthetic table
(tax grade and age, the names the platform's snapshot produces), so
`score_all` scores the world's enterprises with them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chanrong.registry.models import TaxCreditGrade
from chanrong.risk import features
from chanrong.risk.models import (
    Alert,
    EnterpriseScore,
    LoanAccount,
    ModelStatus,
    ModelVersion,
    WarningRule,
)
from chanrong.risk.scorecard import trainer
from chanrong.risk.services import scoring, warnings
from tests.conftest import PASSWORD

API = "/api/v1/risk"


@pytest.fixture(scope="module")
def fitted() -> trainer.Fitted:
    """400 synthetic rows: worse grades and younger firms default more."""
    rng = np.random.default_rng(7)
    n = 400
    grade = rng.integers(0, 5, n).astype(float)
    age = rng.uniform(0.5, 20, n)
    z = -2.5 + 0.7 * grade - 0.08 * age
    bad = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(int)
    frame = pd.DataFrame({"tax_grade": grade, "age_years": age, "bad": bad})
    wanted = {"tax_grade", "age_years"}
    chosen = [f for f in features.features() if f.name in wanted]
    return trainer.fit(frame, "bad", chosen, test_share=0.3)


def _version(fitted, number: int, status: str, auc: float, reason: str = "") -> ModelVersion:
    metrics = dict(fitted.metrics)
    metrics["test"] = {**metrics["test"], "auc": auc}
    metrics["baseline_tax_grade"] = {"auc": 0.61, "ks": 0.2}
    return ModelVersion.objects.create(
        number=number,
        as_of=timezone.localdate(),
        table=fitted.table,
        metrics=metrics,
        features=[{"name": f["name"], "label": f["label"]} for f in fitted.table["features"]],
        status=status,
        refusal_reason=reason,
    )


@pytest.fixture
def versions(world, fitted):
    """v1 live (world.ent graded D, ent2 graded A, scored today), v2
    refused, v3 proposed above the floor, v4 proposed below it."""
    year = timezone.localdate().year
    TaxCreditGrade.objects.create(enterprise=world.ent, year=year - 1, grade="D")
    TaxCreditGrade.objects.create(enterprise=world.ent2, year=year - 1, grade="A")
    live = _version(fitted, 1, ModelStatus.LIVE, 0.71)
    refused = _version(
        fitted, 2, ModelStatus.REFUSED, 0.6, "测试集 AUC 为 0.600，低于要求的 0.650，不能上线"
    )
    proposed = _version(fitted, 3, ModelStatus.PROPOSED, 0.72)
    weak = _version(fitted, 4, ModelStatus.PROPOSED, 0.61)
    scoring.score_all(live)
    return live, refused, proposed, weak


def _client(name: str) -> Client:
    client = Client()
    assert client.login(username=name, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_versions_and_points_table_for_government_and_banks_not_enterprises(world, versions):
    live, refused, proposed, _weak = versions
    for name in ("gov_jiashan_staff", "bank_staff"):
        page = _client(name).get(reverse("risk:models"))
        assert page.status_code == 200
        html = page.content.decode()
        assert "v1" in html and "v4" in html and "0.710" in html and "0.610" in html
        assert "低于要求的 0.650" in html  # the refusal reason
        assert "在用" in html and "已拒绝" in html and "待审批" in html
        detail = _client(name).get(reverse("risk:model", args=[live.pk])).content.decode()
        assert "分值表" in detail and "纳税信用等级" in detail and "成立年限" in detail
        assert "WOE" in detail and 'data-testid="approve-form"' not in detail
    staff = _client("gov_jiashan_staff").get(reverse("risk:model", args=[proposed.pk]))
    assert 'data-testid="approve-form"' not in staff.content.decode()
    admin = _client("gov_jiashan").get(reverse("risk:model", args=[proposed.pk]))
    assert 'data-testid="approve-form"' in admin.content.decode()
    ent = _client("ent_user")
    assert ent.get(reverse("risk:models")).status_code == 404
    assert ent.get(reverse("risk:model", args=[live.pk])).status_code == 404


@pytest.mark.django_db
def test_approve_on_the_page_needs_the_admin_the_confirmation_and_the_floor(world, versions):
    live, refused, proposed, weak = versions
    url = reverse("risk:model_approve", args=[proposed.pk])
    assert _client("gov_jiashan_staff").post(url, {"confirm": "1"}).status_code == 403
    assert _client("bank_manager").post(url, {"confirm": "1"}).status_code == 403
    admin = _client("gov_jiashan")
    unconfirmed = admin.post(url)
    assert unconfirmed.status_code == 422 and "请勾选确认" in unconfirmed.content.decode()
    proposed.refresh_from_db()
    assert proposed.status == ModelStatus.PROPOSED

    below = admin.post(reverse("risk:model_approve", args=[weak.pk]), {"confirm": "1"})
    assert below.status_code == 422
    assert "低于要求的 0.650" in below.content.decode()
    weak.refresh_from_db()
    assert weak.status == ModelStatus.REFUSED and "0.610" in weak.refusal_reason

    done = admin.post(url, {"confirm": "1"})
    assert done.status_code == 302
    proposed.refresh_from_db()
    live.refresh_from_db()
    assert proposed.status == ModelStatus.LIVE and live.status == ModelStatus.RETIRED
    # A refused version cannot be approved later either.
    again = admin.post(reverse("risk:model_approve", args=[refused.pk]), {"confirm": "1"})
    assert again.status_code == 422


@pytest.mark.django_db
def test_score_page_scoped_like_the_loan_book(world, versions):
    url = reverse("risk:score", args=[world.ent.pk])
    page = _client("gov_jiashan_staff").get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "主要扣分原因" in html and "纳税信用等级为 D（-" in html and "v1" in html
    ent2 = _client("gov_jiashan").get(reverse("risk:score", args=[world.ent2.pk])).content
    assert "纳税信用等级为" not in ent2.decode()  # graded A: no points lost on the grade
    # ent authorised bank; bank2 has neither an authorisation nor a loan.
    assert _client("bank_staff").get(url).status_code == 200
    assert _client("bank2_staff").get(url).status_code == 404
    scores = EnterpriseScore.objects.filter(enterprise=world.ent)
    assert not scores.visible_to(world.user("bank2_staff")).exists()
    assert _client("gov_jiangsu").get(url).status_code == 404
    assert _client("ent2_user").get(url).status_code == 404
    assert _client("ent_user").get(url).status_code == 200
    # A loan on bank2's books opens the score to it.
    today = timezone.localdate()
    LoanAccount.objects.create(
        enterprise=world.ent,
        institution=world.bank2,
        source="reported",
        contract_no="SCORE-1",
        principal=Decimal("500000"),
        outstanding=Decimal("500000"),
        disbursed_on=today - timedelta(days=30),
        maturity_on=today + timedelta(days=300),
    )
    assert _client("bank2_staff").get(url).status_code == 200
    # The queryset's one rule says the same as the page.
    assert scores.visible_to(world.user("bank2_staff")).exists()


@pytest.mark.django_db
def test_api_versions_points_table_approve_and_scores(world, versions):
    live, refused, proposed, weak = versions
    gov = _client("gov_jiashan_staff")
    listed = gov.get(f"{API}/models").json()
    assert [row["number"] for row in listed["results"]] == [4, 3, 2, 1]
    detail = gov.get(f"{API}/models/{live.pk}").json()
    grade = next(f for f in detail["points_table"] if f["feature"] == "tax_grade")
    assert grade["label"] == "纳税信用等级" and {"woe", "count", "points"} <= set(grade["bins"][0])
    assert _client("ent_user").get(f"{API}/models/{live.pk}").status_code == 404

    assert gov.post(f"{API}/models/{proposed.pk}/approve").status_code == 403
    admin = _client("gov_jiashan")
    below = admin.post(f"{API}/models/{weak.pk}/approve")
    assert below.status_code == 422 and "低于要求的 0.650" in below.content.decode()
    ok = admin.post(f"{API}/models/{proposed.pk}/approve")
    assert ok.status_code == 200 and ok.json()["status"] == "live"

    scoring.score_all(ModelVersion.objects.get(pk=proposed.pk))
    score = _client("bank_staff").get(f"{API}/scores/{world.ent.pk}")
    assert score.status_code == 200
    body = score.json()
    assert body["version"] == 3 and body["grade"] in "ABCDE"
    assert any(r["text"].startswith("纳税信用等级为 D（-") for r in body["reasons"])
    assert _client("bank2_staff").get(f"{API}/scores/{world.ent.pk}").status_code == 404


@pytest.mark.django_db
def test_low_score_rule_reads_only_the_live_versions_latest_score(world, versions):
    live = versions[0]
    today = timezone.localdate()
    current = EnterpriseScore.objects.get(enterprise=world.ent, version=live, as_of=today)
    threshold = current.score + 1  # ent's score today is below it, ent2's (grade A) above
    assert EnterpriseScore.objects.get(enterprise=world.ent2, as_of=today).score > threshold
    WarningRule.objects.create(
        agency=world.gov_jiashan,
        region_prefix="330421",
        name="评分偏低",
        kind="low_score",
        severity="orange",
        params={"below": threshold},
    )
    # An old low score of ent2, superseded by today's: no alert for it.
    EnterpriseScore.objects.create(
        enterprise=world.ent2,
        version=live,
        as_of=today - timedelta(days=40),
        score=threshold - 50,
        probability=0.3,
    )
    warnings.evaluate(on=today, notify_users=False)
    assert set(Alert.objects.values_list("enterprise_id", flat=True)) == {world.ent.pk}
    # Scores of a retired version raise nothing either.
    Alert.objects.all().delete()
    ModelVersion.objects.filter(pk=live.pk).update(status=ModelStatus.RETIRED)
    warnings.evaluate(on=today, notify_users=False)
    assert not Alert.objects.exists()
