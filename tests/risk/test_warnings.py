"""Early-warning rules as data: parameters checked in one place, evaluation
when the data changes and on demand, one live alert per rule and enterprise,
alerts visible to the agency and to banks with exposure only, handled through
the transition table; the rules page and the board."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from chanrong.core.errors import NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry, Notification
from chanrong.registry.models import OperatingRecord, TaxCreditGrade
from chanrong.risk.models import Alert, AlertState, WarningRule
from chanrong.risk.services import loanbook, warnings

from .conftest import reported

pytestmark = pytest.mark.django_db


def rule(world, kind, severity="red", user="gov_jiashan", **params):
    return warnings.create_rule(
        world.user(user),
        {"name": f"{kind} 规则", "kind": kind, "severity": severity, "params": params},
    )


def fields_of(exc) -> set[str]:
    return {e.field for e in exc.errors}


def test_parameters_are_checked_in_one_place():
    assert warnings.parse_params("overdue", {}) == {"days": 30}
    assert warnings.parse_params("electricity_drop", {"drop_percent": "50"}) == {
        "drop_percent": 50,
        "months": 3,
    }
    with pytest.raises(ValidationFailed) as caught:
        warnings.parse_params("overdue", {"days": 0, "colour": "red"})
    assert fields_of(caught.value) == {"params.days", "params.colour"}
    with pytest.raises(ValidationFailed) as caught:
        warnings.parse_params("revenue_collapse", {"drop_percent": "12.5"})
    assert fields_of(caught.value) == {"params.drop_percent"}
    with pytest.raises(ValidationFailed):
        warnings.parse_params("overdue", {"days": True})


def test_only_a_government_admin_configures_rules(world):
    for name in ("gov_jiashan_staff", "bank_manager", "ent_user"):
        with pytest.raises(NotAllowed):
            rule(world, "overdue", user=name)
    with pytest.raises(ValidationFailed) as caught:
        warnings.create_rule(
            world.user("gov_jiashan"), {"name": "", "kind": "nope", "severity": "purple"}
        )
    assert fields_of(caught.value) == {"name", "kind", "severity"}
    assert not WarningRule.objects.exists()
    created = rule(world, "overdue", days=60)
    assert created.region_prefix == "330421" and created.params == {"days": 60}
    assert AuditEntry.objects.filter(action="risk.rule.create").count() == 1
    assert list(WarningRule.objects.visible_to(world.user("gov_zhejiang"))) == [
        created
    ]  # a subtree
    assert not WarningRule.objects.visible_to(world.user("gov_jiangsu")).exists()
    with pytest.raises(NotAllowed):
        warnings.set_enabled(world.user("gov_jiangsu"), created, False)


def test_an_overdue_report_raises_one_alert_for_the_right_people(
    world, django_capture_on_commit_callbacks
):
    rule(world, "overdue", days=60)
    loan = reported(world)
    staff = world.user("bank_staff")
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        loanbook.report_status(
            staff,
            loan,
            {
                "as_of": today,
                "classification": "special_mention",
                "days_overdue": 30,
                "overdue_amount": "1",
            },
        )
    assert not Alert.objects.exists()  # below the threshold
    with django_capture_on_commit_callbacks(execute=True):
        loanbook.report_status(
            staff,
            loan,
            {
                "as_of": today,
                "classification": "substandard",
                "days_overdue": 95,
                "overdue_amount": "1",
            },
        )
    alert = Alert.objects.get()
    assert alert.enterprise == world.ent and alert.severity == "red"
    assert "逾期 95 天" in alert.detail and alert.state == AlertState.OPEN
    # Matching again opens nothing new while the alert is live.
    assert warnings.evaluate() == 0
    told = set(
        Notification.objects.filter(verb="risk.alerts").values_list(
            "recipient__username", flat=True
        )
    )
    assert {"bank_staff", "bank_manager", "gov_jiashan", "gov_jiashan_staff"} <= told
    assert not told & {"bank2_staff", "gov_jiangsu", "ent_user"}
    seen = {
        name: Alert.objects.visible_to(world.user(name)).exists()
        for name in (
            "gov_jiashan",
            "gov_zhejiang",
            "bank_staff",
            "bank2_staff",
            "gov_jiangsu",
            "ent_user",
        )
    }
    assert seen == {
        "gov_jiashan": True, "gov_zhejiang": True, "bank_staff": True,
        "bank2_staff": False, "gov_jiangsu": False, "ent_user": False,
    }  # fmt: skip


def test_handling_an_alert_and_raising_it_again(world):
    rule(world, "overdue", days=30)
    loan = reported(world)
    loanbook.report_status(
        world.user("bank_staff"),
        loan,
        {
            "as_of": timezone.localdate(),
            "classification": "special_mention",
            "days_overdue": 40,
            "overdue_amount": "1",
        },
    )
    warnings.evaluate()
    alert = Alert.objects.get()
    with pytest.raises(NotAllowed):
        warnings.acknowledge(world.user("bank2_staff"), alert)
    warnings.acknowledge(world.user("bank_staff"), alert)
    with pytest.raises(ValidationFailed):
        warnings.dispose(world.user("gov_jiashan"), alert, "  ")
    warnings.dispose(world.user("gov_jiashan"), alert, "已约谈企业负责人，制定还款计划")
    alert.refresh_from_db()
    assert alert.state == AlertState.DISPOSED and alert.disposal.startswith("已约谈")
    assert (
        AuditEntry.objects.filter(
            action__in=["risk.alert.acknowledge", "risk.alert.dispose"]
        ).count()
        == 2
    )
    assert warnings.evaluate() == 1  # still overdue after disposal: raised again
    assert Alert.objects.live().count() == 1


def test_registry_and_operating_facts(world):
    rule(world, "tax_grade_drop", severity="orange")
    rule(world, "revenue_collapse", severity="yellow", drop_percent=30)
    today = timezone.localdate()
    last, before = today.year - 1, today.year - 2
    TaxCreditGrade.objects.bulk_create(
        [
            TaxCreditGrade(enterprise=world.ent, year=before, grade="A"),
            TaxCreditGrade(enterprise=world.ent, year=last, grade="C"),
            TaxCreditGrade(enterprise=world.ent2, year=before, grade="C"),
            TaxCreditGrade(enterprise=world.ent2, year=last, grade="B"),
            TaxCreditGrade(enterprise=world.ent_js, year=before, grade="A"),
            TaxCreditGrade(enterprise=world.ent_js, year=last, grade="D"),  # outside the region
        ]
    )
    first = today.replace(day=1)
    rows = []
    for back in range(1, 25):
        index = first.year * 12 + first.month - 1 - back
        month = date(index // 12, index % 12 + 1, 1)
        recent = back <= 12
        rows.append(OperatingRecord(enterprise=world.ent2, period_type="month", period_start=month,
                                    revenue=Decimal(50 if recent else 100)))  # fmt: skip
        rows.append(OperatingRecord(enterprise=world.ent, period_type="month", period_start=month,
                                    revenue=Decimal(90 if recent else 100)))  # fmt: skip
    OperatingRecord.objects.bulk_create(rows)
    assert warnings.evaluate() == 2
    alerts = {
        (a.enterprise_id, a.rule.kind): a.detail for a in Alert.objects.select_related("rule")
    }
    assert set(alerts) == {(world.ent.pk, "tax_grade_drop"), (world.ent2.pk, "revenue_collapse")}
    assert (
        "A" in alerts[(world.ent.pk, "tax_grade_drop")]
        and "C" in alerts[(world.ent.pk, "tax_grade_drop")]
    )
    assert "50.0%" in alerts[(world.ent2.pk, "revenue_collapse")]
    # Evaluating one enterprise only looks at that one.
    Alert.objects.all().delete()
    assert warnings.evaluate(enterprise_ids=[world.ent2.pk]) == 1


def test_rules_page_and_board(world):
    admin = Client()
    admin.force_login(world.user("gov_jiashan"))
    bad = admin.post(
        "/risk/rules/",
        {"name": "逾期", "kind": "overdue", "severity": "red", "p_overdue_days": "-3"},
    )
    assert bad.status_code == 422 and 'id="p_overdue_days-error"' in bad.text
    assert not WarningRule.objects.exists()
    good = admin.post(
        "/risk/rules/",
        {
            "name": "逾期 60 天",
            "kind": "overdue",
            "severity": "red",
            "p_overdue_days": "60",
            "p_downgrade_within_days": "7",
        },
    )
    assert good.status_code == 302
    assert WarningRule.objects.get().params == {"days": 60}
    staff = Client()
    staff.force_login(world.user("gov_jiashan_staff"))
    assert 'data-testid="rule-form"' not in staff.get("/risk/rules/").text
    assert (
        staff.post("/risk/rules/", {"name": "x", "kind": "overdue", "severity": "red"}).status_code
        == 403
    )
    bank = Client()
    bank.force_login(world.user("bank_staff"))
    assert bank.get("/risk/rules/").status_code == 404
    assert bank.get("/risk/alerts/").status_code == 200
    ent = Client()
    ent.force_login(world.user("ent_user"))
    assert ent.get("/risk/alerts/").status_code == 404
    assert admin.get("/risk/alerts/").status_code == 200


def test_entering_operating_data_evaluates_once_after_commit(
    world, django_capture_on_commit_callbacks
):
    """The import path: record_operating_data row by row in one transaction;
    the rules look at the enterprise once, after commit."""
    from django.db import transaction

    from chanrong.registry import services as registry_services

    rule(world, "revenue_collapse", severity="yellow", drop_percent=30)
    first = timezone.localdate().replace(day=1)
    official = world.user("gov_jiashan")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for back in range(1, 25):
            index = first.year * 12 + first.month - 1 - back
            period = registry_services.parse_period(f"{index // 12}-{index % 12 + 1:02d}")
            revenue = "40" if back <= 12 else "100"
            registry_services.record_operating_data(
                official, world.ent, period, {"revenue_wan": revenue}
            )
        assert not Alert.objects.exists()  # nothing before commit
    assert len(callbacks) >= 1
    alert = Alert.objects.get()
    assert alert.enterprise == world.ent and "60.0%" in alert.detail


def test_the_board_lists_open_alerts_first_and_red_before_yellow(world):
    """States and severities sort by their declared order, not alphabetically
    (alphabetically "acknowledged" < "open" and "orange" < "red")."""
    yellow = rule(world, "tax_grade_drop", severity="yellow")
    red = rule(world, "blacklisted", severity="red")
    orange = rule(world, "overdue", severity="orange")
    day = timezone.localdate()
    done = Alert.objects.create(rule=red, enterprise=world.ent2, severity="red", detail="已处置", opened_on=day,
                                state=AlertState.ACKNOWLEDGED)  # fmt: skip
    Alert.objects.create(
        rule=yellow, enterprise=world.ent, severity="yellow", detail="黄", opened_on=day
    )
    Alert.objects.create(rule=red, enterprise=world.ent, severity="red", detail="红", opened_on=day)
    Alert.objects.create(
        rule=orange, enterprise=world.ent, severity="orange", detail="橙", opened_on=day
    )
    page = Client()
    page.force_login(world.user("gov_jiashan"))
    rows = list(page.get("/risk/alerts/?state=all").context["alerts"])
    assert [a.detail for a in rows] == ["红", "橙", "黄", "已处置"]
    assert rows[-1].pk == done.pk
