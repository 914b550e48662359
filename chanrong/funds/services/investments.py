"""A fund's investments: recorded by whoever keeps the fund, exited later.

The ceiling: what a fund has invested (every investment recorded, exited or
not — an exit returns money to the investors, it does not refill the fund)
never exceeds its paid-in size (实缴规模). The fund's row is locked
(SELECT … FOR UPDATE) while the total is read and the new row written, so
two concurrent recordings cannot both pass the check on PostgreSQL; on
SQLite writers are serialised anyway.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.money import format_amount
from chanrong.registry.models import Enterprise, Project

from .. import permissions as perms
from ..models import Fund, FundInvestment, FundStatus, InvestmentRound
from . import fields


def _enterprise(data: dict[str, Any], errors: list[FieldError]) -> Enterprise | None:
    raw_id, uscc = data.get("enterprise"), str(data.get("enterprise_uscc") or "").strip()
    enterprise = None
    if raw_id not in (None, ""):
        try:
            enterprise = Enterprise.objects.filter(pk=int(raw_id)).first()
        except (TypeError, ValueError):
            enterprise = None
    elif uscc:
        enterprise = Enterprise.objects.filter(uscc=uscc.upper()).first()
    else:
        errors.append(FieldError("enterprise", _("必填")))
        return None
    if enterprise is None:
        errors.append(FieldError("enterprise", _("未找到该企业")))
    return enterprise


def _project(
    data: dict[str, Any], enterprise: Enterprise | None, errors: list[FieldError]
) -> Project | None:
    raw = data.get("project")
    if raw in (None, ""):
        return None
    try:
        project = Project.objects.filter(pk=int(raw)).first()
    except (TypeError, ValueError):
        project = None
    if project is None:
        errors.append(FieldError("project", _("未找到该项目")))
    elif enterprise is not None and project.owner_id != enterprise.pk:
        errors.append(FieldError("project", _("该项目不属于被投企业")))
        project = None
    return project


def record_investment(
    actor, fund: Fund, data: dict[str, Any], *, today: date | None = None
) -> FundInvestment:
    """Validate by field, then lock the fund and refuse an overrun of its paid-in size."""
    today = today or timezone.localdate()
    if not perms.can_keep(actor, fund):
        raise NotAllowed(_("只有基金管理人或基金注册地政府可以登记该基金的投资"))
    errors: list[FieldError] = []
    enterprise = _enterprise(data, errors)
    project = _project(data, enterprise, errors)
    round_ = fields.choice(data, "round", errors, InvestmentRound)
    amount = fields.money(data, "amount", errors, required=True, positive=True)
    invested_on = fields.day(data, "invested_on", errors, required=True)
    share = fields.percent(data, "share_pct", errors)
    if invested_on is not None:
        if invested_on > today:
            errors.append(FieldError("invested_on", _("投资日期不能晚于今天")))
        elif invested_on < fund.inception_date:
            errors.append(
                FieldError(
                    "invested_on",
                    _("投资日期不能早于基金成立日期 %(d)s") % {"d": fund.inception_date},
                )
            )
        elif fund.closed_on is not None and invested_on >= fund.closed_on:
            errors.append(FieldError("invested_on", _("投资日期不能晚于基金清算日期")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = Fund.objects.select_for_update().get(pk=fund.pk)
        if locked.status == FundStatus.CLOSED:
            raise Conflict(_("基金已清算，不能再登记投资"), code="fund_closed")
        invested = locked.investments.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")
        room = locked.paid_in_size - invested
        if amount > room:
            raise ValidationFailed(
                [
                    FieldError(
                        "amount",
                        _("超出基金可投资金额：实缴 %(paid)s，已投 %(done)s，尚可投资 %(room)s")
                        % {
                            "paid": format_amount(locked.paid_in_size),
                            "done": format_amount(invested),
                            "room": format_amount(max(room, Decimal("0"))),
                        },
                    )
                ],
                message=_("投资总额不能超过基金实缴规模"),
            )
        investment = FundInvestment.objects.create(
            fund=locked,
            enterprise=enterprise,
            project=project,
            round=round_,
            amount=amount,
            invested_on=invested_on,
            share_pct=share,
            created_by=actor,
        )
        audit.record(
            "funds.investment.create",
            actor=actor,
            obj=investment,
            changes={
                "fund": locked.pk,
                "enterprise": enterprise.pk,
                "amount": str(amount),
                "invested_on": str(invested_on),
                "round": round_,
            },
        )
    return investment


def visible_investment(actor, investment_id: int) -> FundInvestment:
    found = FundInvestment.objects.visible_to(actor).filter(pk=investment_id).first()
    if found is None:
        raise NotFound(_("未找到该笔投资"))
    return found


def record_exit(
    actor, investment: FundInvestment, data: dict[str, Any], *, today: date | None = None
) -> FundInvestment:
    """退出: the date (after the investment, not in the future) and, optionally, the proceeds."""
    today = today or timezone.localdate()
    if not perms.can_keep(actor, investment.fund):
        raise NotAllowed(_("只有基金管理人或基金注册地政府可以登记退出"))
    errors: list[FieldError] = []
    exited_on = fields.day(data, "exited_on", errors, required=True)
    proceeds = fields.money(data, "exit_amount", errors)
    if exited_on is not None and (exited_on > today or exited_on < investment.invested_on):
        errors.append(FieldError("exited_on", _("退出日期应在投资日期与今天之间")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = FundInvestment.objects.select_for_update().get(pk=investment.pk)
        if locked.exited_on is not None:
            raise Conflict(_("该笔投资已退出"), code="already_exited")
        locked.exited_on, locked.exit_amount = exited_on, proceeds
        locked.save(update_fields=["exited_on", "exit_amount"])
        audit.record(
            "funds.investment.exit",
            actor=actor,
            obj=locked,
            changes={"exited_on": [None, str(exited_on)], "exit_amount": [None, str(proceeds)]},
        )
    return locked
