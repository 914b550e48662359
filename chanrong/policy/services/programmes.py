"""Creating, editing, publishing and closing programmes.

A programme's parameters and eligibility are validated by `policy.params`
and `policy.rules` before anything is written; every error is reported by
field ("params.cap_per_loan", "eligibility.term_max_months", "ends_on").
A published programme keeps its parameters: an application computed under
them must be paid under them, so changing a rule means closing the
programme and publishing a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.models import Region
from chanrong.core.workflow import apply_transition
from chanrong.finance import eligibility as el

from .. import params as params_mod
from .. import permissions as perms
from .. import rules
from ..models import POOL_KINDS, Pool, Programme, ProgrammeKind, ProgrammeState
from ..workflows import PROGRAMME

EDITABLE = (
    "name",
    "basis",
    "summary",
    "starts_on",
    "ends_on",
    "params",
    "eligibility",
    "requires_bank_confirmation",
    "auto_apply",
    "notice_days",
)


@dataclass(frozen=True)
class Checked:
    """A programme's parameters and conditions, parsed once."""

    params: params_mod.Params
    conditions: rules.ProgrammeConditions


def areas_for(codes) -> dict[str, el.Area]:
    return {
        r.code: el.Area(r.code, r.prefix, r.name) for r in Region.objects.filter(pk__in=list(codes))
    }


def check(programme: Programme) -> Checked:
    """The parsed parameters and conditions of a stored programme (cached per
    programme version: they never change once published).

    A programme is for its own region: when its eligibility names no
    regions, the programme's region is the condition (a county's money is
    for that county's enterprises)."""
    eligibility = dict(programme.eligibility or {})
    if not eligibility.get("regions"):
        eligibility["regions"] = [programme.region_id]
    return _checked(
        programme.pk,
        programme.updated_at,
        programme.kind,
        _freeze(programme.params),
        _freeze(eligibility),
    )


def _freeze(value):
    import json

    return json.dumps(value, sort_keys=True, default=str)


@lru_cache(maxsize=256)
def _checked(pk, updated_at, kind, params_json, eligibility_json) -> Checked:
    import json

    eligibility = json.loads(eligibility_json)
    return Checked(
        params=params_mod.parse(kind, json.loads(params_json)),
        conditions=rules.parse(eligibility, areas=areas_for(eligibility.get("regions") or [])),
    )


def _validate(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Every field checked, every error collected; returns clean values."""
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    for name, limit in (("name", 200), ("basis", 200)):
        value = str(data.get(name) or "").strip()
        if not value:
            errors.append(FieldError(name, _("必填")))
        elif len(value) > limit:
            errors.append(FieldError(name, _("不超过 %(n)s 个字符") % {"n": limit}))
        clean[name] = value
    clean["summary"] = str(data.get("summary") or "").strip()
    for name in ("starts_on", "ends_on"):
        raw = data.get(name)
        if isinstance(raw, date):
            clean[name] = raw
            continue
        try:
            clean[name] = date.fromisoformat(str(raw))
        except (TypeError, ValueError):
            errors.append(FieldError(name, _("日期格式应为 YYYY-MM-DD")))
    if clean.get("starts_on") and clean.get("ends_on") and clean["ends_on"] < clean["starts_on"]:
        errors.append(FieldError("ends_on", _("结束日期早于开始日期")))
    try:
        clean["params"] = params_mod.dump(params_mod.parse(kind, data.get("params") or {}))
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    eligibility = data.get("eligibility") or {}
    try:
        rules.parse(eligibility)
        clean["eligibility"] = eligibility
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    regions = eligibility.get("regions") if isinstance(eligibility, dict) else None
    if regions and isinstance(regions, list):
        known = set(Region.objects.filter(pk__in=regions).values_list("pk", flat=True))
        unknown = [c for c in regions if c not in known]
        if unknown:
            errors.append(
                FieldError(
                    "eligibility.regions",
                    _("未知的地区代码：%(c)s") % {"c": "、".join(map(str, unknown))},
                )
            )
    notice = data.get("notice_days", 5)
    try:
        clean["notice_days"] = int(notice)
        if not 1 <= clean["notice_days"] <= 30:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(FieldError("notice_days", _("公示期应为 1–30 个工作日")))
    clean["requires_bank_confirmation"] = bool(data.get("requires_bank_confirmation", True))
    clean["auto_apply"] = bool(data.get("auto_apply", False))
    if clean["auto_apply"] and kind not in (ProgrammeKind.INTEREST, ProgrammeKind.GUARANTEE_FEE):
        errors.append(FieldError("auto_apply", _("免申即享仅适用于贴息和担保费补贴")))
    if errors:
        raise ValidationFailed(errors)
    return clean


def create_programme(actor, data: dict[str, Any]) -> Programme:
    """A draft programme of the actor's agency, for its region."""
    if not perms.can_manage_programmes(actor) or actor.agency_id is None:
        raise NotAllowed(_("只有财政或经信部门的管理员可以创建政策"))
    kind = data.get("kind")
    if kind not in ProgrammeKind.values:
        raise ValidationFailed({"kind": _("请选择政策类型")})
    clean = _validate(kind, data)
    agency = actor.agency
    if agency.region_id is None:
        raise ValidationFailed({"region": _("国家级部门请在地方政策中指定地区")})
    with transaction.atomic():
        programme = Programme.objects.create(
            agency=agency, region_id=agency.region_id, kind=kind, created_by=actor, **clean
        )
        if kind in POOL_KINDS:
            Pool.objects.create(programme=programme)
        audit.record(
            "policy.programme.create",
            actor=actor,
            obj=programme,
            changes={"name": programme.name, "kind": kind},
        )
    return programme


def update_programme(actor, programme: Programme, data: dict[str, Any]) -> Programme:
    if not perms.can_manage_programme(actor, programme):
        raise NotAllowed()
    if programme.state != ProgrammeState.DRAFT:
        raise Conflict(
            _("已发布的政策不能修改参数；如需调整请结束后另行发布"), code="programme_published"
        )
    merged = {name: getattr(programme, name) for name in EDITABLE} | dict(data)
    clean = _validate(programme.kind, merged)
    with transaction.atomic():
        before = {k: getattr(programme, k) for k in clean}
        for key, value in clean.items():
            setattr(programme, key, value)
        programme.save()
        audit.record(
            "policy.programme.update", actor=actor, obj=programme, changes=audit.diff(before, clean)
        )
    return programme


def publish_programme(actor, programme: Programme) -> Programme:
    """Open a draft programme to applications. Application kinds need this
    year's appropriation first; pools need capital."""
    if programme.kind in POOL_KINDS:
        pool = Pool.objects.filter(programme=programme).first()
        if pool is None or pool.capital <= 0:
            raise Conflict(_("请先为资金池注资"), code="no_capital")
    elif not programme.budget_years.filter(appropriation__gt=0).exists():
        raise Conflict(_("请先安排年度预算"), code="no_budget")
    return apply_transition(
        PROGRAMME, programme, "publish", actor, changes={"published_at": timezone.now()}
    )


def close_programme(actor, programme: Programme) -> Programme:
    return apply_transition(PROGRAMME, programme, "close", actor)


def remaining_budget(programme: Programme, year: int) -> Decimal | None:
    budget = programme.budget_years.filter(year=year).first()
    return None if budget is None else budget.available
