"""Scorecard versions on the platform's own data: train from loan-book
snapshots, propose, approve (government admin only), the AUC floor, and
scoring everyone with reasons. A small synthetic book where 90+ day
defaults follow the 纳税信用等级."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from chanrong.core.codes import make_uscc
from chanrong.core.errors import Conflict, NotAllowed
from chanrong.core.models import AuditEntry
from chanrong.registry.models import Enterprise, TaxCreditGrade
from chanrong.risk import features
from chanrong.risk.models import (
    EnterpriseScore,
    LoanAccount,
    LoanEvent,
    LoanEventKind,
    ModelStatus,
    ModelVersion,
)
from chanrong.risk.services import scoring
from tests.conftest import JIASHAN

GRADES = "ABMCD"
BAD_CHANCE = {"A": 0.03, "B": 0.08, "M": 0.15, "C": 0.5, "D": 0.75}


@pytest.fixture
def book(world):
    """360 borrowers, each with one long loan opened four years ago; a
    borrower defaults (a 90-day overdue report) with a chance set by its
    tax grade, on a day spread over the last three years."""
    rng = random.Random(5)
    today = timezone.localdate()
    enterprises = Enterprise.objects.bulk_create(
        Enterprise(
            uscc=make_uscc(f"91{JIASHAN}{5000 + i:09d}"),
            name=f"评分测试企业{i}",
            region_id=JIASHAN,
            industry_id="C34",
            size="small",
            founded_on=today - timedelta(days=rng.randint(400, 6000)),
        )
        for i in range(360)
    )
    grades, loans = [], []
    for i, e in enumerate(enterprises):
        grade = GRADES[i % 5]
        grades += [
            TaxCreditGrade(enterprise=e, year=today.year - k, grade=grade) for k in (1, 2, 3, 4)
        ]
        loans.append(
            LoanAccount(
                enterprise=e,
                institution=world.bank,
                source="reported",
                contract_no=f"SC-{i}",
                principal=Decimal("1000000"),
                outstanding=Decimal("1000000"),
                disbursed_on=today - timedelta(days=4 * 365),
                maturity_on=today + timedelta(days=365),
            )
        )
    TaxCreditGrade.objects.bulk_create(grades)
    loans = LoanAccount.objects.bulk_create(loans)
    events = []
    for i, loan in enumerate(loans):
        if rng.random() < BAD_CHANCE[GRADES[i % 5]]:
            on = today - timedelta(days=rng.randint(40, 3 * 365))
            events.append(
                LoanEvent(
                    loan=loan,
                    kind=LoanEventKind.STATUS,
                    on=on,
                    classification="substandard",
                    previous_classification="special_mention",
                    days_overdue=95,
                    outstanding=loan.outstanding,
                )
            )
    LoanEvent.objects.bulk_create(events)
    return enterprises


@pytest.mark.django_db
def test_snapshot_sees_only_the_past(world, book):
    today = timezone.localdate()
    day = features.observation_days(today)[0]
    ids = features.population(day)
    frame = features.snapshot(day, ids)
    assert set(frame.index) == set(ids) and len(ids) > 200
    # Grades of earlier years only; the label looks only at the next year.
    assert frame["tax_grade"].notna().all()
    bad = features.labels(day, ids)
    assert 0 < bad.sum() < len(ids)
    stacked = features.training_frame(today)
    assert stacked["observed_on"].nunique() == features.TRAINING_QUARTERS
    # A borrower already 90+ days overdue leaves the later snapshots.
    assert stacked.groupby("enterprise_id")["bad"].sum().max() <= 4


@pytest.mark.django_db
def test_propose_approve_score_with_reasons(world, book):
    version = scoring.train_and_propose()
    assert version.status == ModelStatus.PROPOSED
    assert version.metrics["test"]["auc"] > 0.65
    assert version.metrics["baseline_tax_grade"]["auc"] > 0.6
    assert AuditEntry.objects.filter(action="risk.model.propose").exists()

    for name in ("gov_jiashan_staff", "bank_manager", "admin", "ent_user"):
        with pytest.raises(NotAllowed) as refused:
            scoring.approve(world.user(name), version)
        assert refused.value.status == 403
    version.refresh_from_db()
    assert version.status == ModelStatus.PROPOSED

    live = scoring.approve(world.user("gov_jiashan"), version)
    assert live.status == ModelStatus.LIVE and live.approved_by == world.user("gov_jiashan")
    assert AuditEntry.objects.filter(action="risk.model.approve").exists()

    result = scoring.score_all()
    assert result["scored"] == Enterprise.objects.count()
    worst = EnterpriseScore.objects.filter(enterprise=book[4]).get()  # grade D
    best = EnterpriseScore.objects.filter(enterprise=book[0]).get()  # grade A
    assert worst.score < best.score and worst.probability > best.probability
    texts = [r["text"] for r in worst.reasons]
    assert any(t.startswith("纳税信用等级为 D（-") for t in texts), texts
    assert scoring.score_of(book[4]) == worst
    table = scoring.points_table(live)
    grade_row = next(row for row in table if row["feature"] == "tax_grade")
    assert grade_row["label"] == "纳税信用等级" and len(grade_row["bins"]) >= 3
    named = [b["bin"] for b in grade_row["bins"]]
    assert named[0].startswith("A") and named[-2].endswith("D") and named[-1] == "缺失"
    assert grade_row["bins"][0]["points"] > grade_row["bins"][-2]["points"]

    # The next approved version retires this one; only one is ever live.
    second = scoring.train_and_propose()
    scoring.approve(world.user("gov_zhejiang"), second)
    live.refresh_from_db()
    assert live.status == ModelStatus.RETIRED
    assert list(ModelVersion.objects.live()) == [second]


@pytest.mark.django_db
def test_below_the_auc_floor_is_refused_and_never_goes_live(world, book, settings):
    settings.CHANRONG_RISK_AUC_FLOOR = 0.99
    version = scoring.train_and_propose()
    assert version.status == ModelStatus.REFUSED
    assert "低于要求的 0.990" in version.refusal_reason
    with pytest.raises(Conflict):
        scoring.approve(world.user("gov_jiashan"), version)
    with pytest.raises(Conflict):
        scoring.score_all(version)
    # Proposed under a lower floor, then the floor is raised: approval refuses.
    settings.CHANRONG_RISK_AUC_FLOOR = 0.5
    proposed = scoring.train_and_propose()
    assert proposed.status == ModelStatus.PROPOSED
    settings.CHANRONG_RISK_AUC_FLOOR = 0.99
    with pytest.raises(Conflict) as refused:
        scoring.approve(world.user("gov_jiashan"), proposed)
    assert refused.value.code == "auc_below_floor"
    proposed.refresh_from_db()
    assert proposed.status == ModelStatus.REFUSED and proposed.refusal_reason
    assert not ModelVersion.objects.live().exists()


@pytest.mark.django_db
def test_commands_train_and_score_on_the_platform(world, book, capsys):
    call_command("risk", "train")
    out = capsys.readouterr().out
    assert "仅纳税信用等级（基线，测试集）" in out and "待政府管理员批准" in out
    version = ModelVersion.objects.get()
    scoring.approve(world.user("gov_jiashan"), version)
    call_command("risk", "score")
    assert (
        f"已用 v{version.number} 为 {Enterprise.objects.count()} 家企业评分"
        in capsys.readouterr().out
    )
