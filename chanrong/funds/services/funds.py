"""Keeping a fund: create, edit, and move it along its life (workflows.FUND).

Everything is validated before anything is written; problems come back by
field (ValidationFailed). The manager must be an institution of the fund or
securities kind; focus industries are GB/T 4754 codes known to the platform;
paid-in never exceeds the target, nor falls below what the fund has already
invested.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.models import User
from chanrong.core import audit, notify
from chanrong.core.errors import FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import Industry, Region
from chanrong.core.workflow import apply_transition
from chanrong.finance.models import FinancialInstitution, InstitutionKind

from .. import permissions as perms
from ..models import Fund, FundKind, FundStage, FundStatus
from ..workflows import FUND
from . import fields

#: Institutions that may manage a fund (基金管理人: fund companies and the
#: private-equity arms of securities firms).
MANAGER_KINDS = (InstitutionKind.FUND, InstitutionKind.SECURITIES)

EDITABLE = (
    "name",
    "kind",
    "target_size",
    "paid_in_size",
    "manager",
    "region",
    "focus_industries",
    "focus_stages",
    "ticket_min",
    "ticket_max",
    "inception_date",
)


def kept_fund(actor, fund_id: int) -> Fund:
    """A fund the actor keeps; 404 if it cannot see it, 403 if it sees but does not keep it."""
    fund = Fund.objects.visible_to(actor).select_related("manager", "region").filter(pk=fund_id)
    fund = fund.first()
    if fund is None:
        raise NotFound(_("未找到该基金"))
    if not perms.can_keep(actor, fund):
        raise NotAllowed(_("只有基金管理人或基金注册地政府可以维护该基金"))
    return fund


def invested_total(fund_id: int) -> Decimal:
    total = Fund.objects.filter(pk=fund_id).aggregate(s=Sum("investments__amount"))["s"]
    return total or Decimal("0.00")


def _clean(data: dict[str, Any], current: Fund | None, today: date) -> dict[str, Any]:
    """Every field checked; the cleaned values, or ValidationFailed by field."""
    merged: dict[str, Any] = {}
    if current is not None:
        merged = {
            "name": current.name,
            "kind": current.kind,
            "target_size": current.target_size,
            "paid_in_size": current.paid_in_size,
            "manager": current.manager_id,
            "region": current.region_id,
            "focus_industries": list(current.focus_industries),
            "focus_stages": list(current.focus_stages),
            "ticket_min": current.ticket_min,
            "ticket_max": current.ticket_max,
            "inception_date": current.inception_date,
        }
    merged.update({k: v for k, v in data.items() if k in EDITABLE})
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    out["name"] = fields.text(merged, "name", errors, max_length=100)
    out["kind"] = fields.choice(merged, "kind", errors, FundKind)
    out["target_size"] = fields.money(merged, "target_size", errors, required=True, positive=True)
    out["paid_in_size"] = fields.money(merged, "paid_in_size", errors, required=True)
    out["ticket_min"] = fields.money(merged, "ticket_min", errors, positive=True)
    out["ticket_max"] = fields.money(merged, "ticket_max", errors, positive=True)
    out["inception_date"] = fields.day(merged, "inception_date", errors, required=True)

    manager = None
    raw = merged.get("manager")
    if raw in (None, ""):
        errors.append(FieldError("manager", _("必填")))
    else:
        try:
            manager = FinancialInstitution.objects.filter(pk=int(raw)).first()
        except (TypeError, ValueError):
            manager = None
        if manager is None:
            errors.append(FieldError("manager", _("未找到该金融机构")))
        elif manager.kind not in MANAGER_KINDS:
            errors.append(FieldError("manager", _("基金管理人应为基金或证券类机构")))
            manager = None
    out["manager"] = manager

    region = None
    code = str(merged.get("region") or "").strip()
    if not code:
        errors.append(FieldError("region", _("必填")))
    else:
        region = Region.objects.filter(code=code).first()
        if region is None:
            errors.append(FieldError("region", _("未知的行政区划代码：%(c)s") % {"c": code[:6]}))
    out["region"] = region

    industries = fields.code_list(merged.get("focus_industries"))
    if industries is None:
        errors.append(FieldError("focus_industries", _("应为行业代码列表")))
        industries = []
    known = set(Industry.objects.filter(code__in=industries).values_list("code", flat=True))
    unknown = [c for c in industries if c not in known]
    if unknown:
        errors.append(
            FieldError(
                "focus_industries", _("未知的行业代码：%(c)s") % {"c": ", ".join(unknown)[:60]}
            )
        )
    out["focus_industries"] = sorted(set(industries))

    stages = fields.code_list(merged.get("focus_stages"))
    if stages is None or any(s not in FundStage.values for s in stages):
        errors.append(FieldError("focus_stages", _("投资阶段应为：种子期、初创期、成长期、成熟期")))
        stages = []
    out["focus_stages"] = [s for s in FundStage.values if s in stages]

    target, paid = out["target_size"], out["paid_in_size"]
    if target is not None and paid is not None and paid > target:
        errors.append(FieldError("paid_in_size", _("实缴规模不能超过目标规模")))
    if current is not None and paid is not None:
        invested = invested_total(current.pk)
        if paid < invested:
            errors.append(
                FieldError(
                    "paid_in_size",
                    _("实缴规模不能低于已投资金额 %(n)s 元") % {"n": invested},
                )
            )
    lo, hi = out["ticket_min"], out["ticket_max"]
    if lo is not None and hi is not None and lo > hi:
        errors.append(FieldError("ticket_max", _("单笔投资上限不能低于下限")))
    if out["inception_date"] is not None and out["inception_date"] > today:
        errors.append(FieldError("inception_date", _("成立日期不能晚于今天")))
    if current is not None and out["inception_date"] is not None:
        first = current.investments.order_by("invested_on").values_list("invested_on", flat=True)
        first = first.first()
        if first is not None and first < out["inception_date"]:
            errors.append(FieldError("inception_date", _("成立日期不能晚于基金的第一笔投资")))
    name_taken = Fund.objects.filter(name=out["name"])
    if current is not None:
        name_taken = name_taken.exclude(pk=current.pk)
    if out["name"] and name_taken.exists():
        errors.append(FieldError("name", _("已有同名基金")))
    if errors:
        raise ValidationFailed(errors)
    return out


def _audit_values(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.pk if hasattr(v, "pk") else str(v) if isinstance(v, Decimal | date) else v)
        for k, v in values.items()
    }


def create_fund(actor, data: dict[str, Any], *, today: date | None = None) -> Fund:
    today = today or timezone.localdate()
    values = _clean(data, None, today)
    if not perms.can_create(
        actor, manager_id=values["manager"].pk, region_code=values["region"].pk
    ):
        raise NotAllowed(_("只有基金管理人或基金注册地政府可以登记该基金"))
    status = data.get("status") or FundStatus.INVESTING
    if status not in (FundStatus.RAISING, FundStatus.INVESTING):
        raise ValidationFailed({"status": _("新登记的基金应为募集中或投资期")})
    with transaction.atomic():
        fund = Fund.objects.create(**values, status=status, created_by=actor)
        audit.record("funds.fund.create", actor=actor, obj=fund, changes=_audit_values(values))
    _notify_manager(fund, actor, _("产业基金「%(name)s」已登记") % {"name": fund.name})
    return fund


def update_fund(actor, fund: Fund, data: dict[str, Any], *, today: date | None = None) -> Fund:
    today = today or timezone.localdate()
    if not perms.can_keep(actor, fund):
        raise NotAllowed(_("只有基金管理人或基金注册地政府可以维护该基金"))
    with transaction.atomic():
        locked = Fund.objects.select_for_update().get(pk=fund.pk)
        values = _clean(data, locked, today)
        if not perms.can_create(
            actor, manager_id=values["manager"].pk, region_code=values["region"].pk
        ):
            raise NotAllowed(_("不能把基金转给自己无权维护的管理人或地区"))
        before = {k: getattr(locked, k) for k in values}
        for key, value in values.items():
            setattr(locked, key, value)
        locked.save()
        audit.record(
            "funds.fund.update",
            actor=actor,
            obj=locked,
            changes=audit.diff(_audit_values(before), _audit_values(values)),
        )
    return locked


def move(actor, fund: Fund, transition: str, *, closed_on: date | None = None) -> Fund:
    """Along workflows.FUND; `close` needs the 清算 date (not in the future,
    not before the last investment)."""
    changes: dict[str, Any] = {}
    if transition == "close":
        today = timezone.localdate()
        if closed_on is None:
            raise ValidationFailed({"closed_on": _("必填")})
        last = fund.investments.order_by("-invested_on").values_list("invested_on", flat=True)
        last = last.first()
        if closed_on > today:
            raise ValidationFailed({"closed_on": _("清算日期不能晚于今天")})
        if closed_on < fund.inception_date or (last is not None and closed_on < last):
            raise ValidationFailed({"closed_on": _("清算日期不能早于成立日期或最后一笔投资")})
        changes["closed_on"] = closed_on

    def tell(locked, t, who):
        _notify_manager(
            locked,
            who,
            _("基金「%(name)s」：%(action)s") % {"name": locked.name, "action": t.label},
        )

    return apply_transition(FUND, fund, transition, actor, changes=changes, notify=tell)


def _notify_manager(fund: Fund, actor, message: str) -> None:
    """The manager's staff and whoever registered the fund hear of it (not the actor)."""
    staff = list(User.objects.filter(institution_id=fund.manager_id, is_active=True))
    recipients = [u for u in [*staff, fund.created_by] if u is not None and u != actor]
    notify.send(recipients, "funds.fund", message, f"/funds/{fund.pk}/", email=False)
