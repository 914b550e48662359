"""What every supply-chain service shares: reading input by field, who hears
about a change, the core-enterprise list, and the refusal before any lock."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.models import User
from chanrong.core.errors import Conflict, FieldError, NotAllowed
from chanrong.core.money import to_halfwidth
from chanrong.core.text import clean_by_kind, kind_of_field
from chanrong.core.workflow import StateMachine
from chanrong.registry.models import Enterprise, ListEntry, ListType

FEN = Decimal("0.01")
#: Above any real contract (a trillion 元), below the column's 20 digits.
MAX_AMOUNT = Decimal("1000000000000")
RATE_PLACES = Decimal("0.000001")


def yuan(value: Decimal) -> str:
    return f"{value:,.2f}"


def today_or(day: date | None) -> date:
    return day or timezone.localdate()


# --- reading input, one field at a time -------------------------------------------------


def read_money(raw: Any, name: str, errors: list[FieldError], *, required: bool = True):
    """A positive amount in 元 with at most two decimals ("1,000.50" is fine)."""
    if raw is None or raw == "":
        if required:
            errors.append(FieldError(name, _("必填")))
        return None
    if isinstance(raw, bool | float):
        errors.append(FieldError(name, _("应为金额（元，最多两位小数）")))
        return None
    try:
        if isinstance(raw, Decimal | int):
            value = Decimal(raw)
        else:
            value = Decimal(to_halfwidth(str(raw)).replace(",", "").strip())
    except InvalidOperation:
        errors.append(FieldError(name, _("应为金额（元，最多两位小数）")))
        return None
    if not value.is_finite():
        errors.append(FieldError(name, _("应为金额（元，最多两位小数）")))
        return None
    if value <= 0:
        errors.append(FieldError(name, _("应大于 0")))
        return None
    if value >= MAX_AMOUNT:
        errors.append(FieldError(name, _("金额过大")))
        return None
    if value != value.quantize(FEN):
        errors.append(FieldError(name, _("最多保留两位小数（分）")))
        return None
    return value.quantize(FEN)


def read_rate(raw: Any, name: str, errors: list[FieldError], *, upper: Decimal) -> Decimal | None:
    """A percentage with 0 < rate ≤ `upper` (at most six decimals)."""
    if raw is None or raw == "":
        errors.append(FieldError(name, _("必填")))
        return None
    if isinstance(raw, bool | float):
        errors.append(FieldError(name, _("应为百分比数值")))
        return None
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(to_halfwidth(str(raw)).strip())
    except InvalidOperation:
        errors.append(FieldError(name, _("应为百分比数值")))
        return None
    if not value.is_finite() or value <= 0 or value > upper:
        errors.append(FieldError(name, _("应大于 0 且不超过 %(u)s") % {"u": upper}))
        return None
    if value != value.quantize(RATE_PLACES):
        errors.append(FieldError(name, _("最多保留六位小数")))
        return None
    return value


def read_day(raw: Any, name: str, errors: list[FieldError], *, default: date | None = None):
    """A date (YYYY-MM-DD); `default` when blank (else required)."""
    if raw is None or raw == "":
        if default is None:
            errors.append(FieldError(name, _("必填")))
        return default
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        errors.append(FieldError(name, _("日期格式应为 YYYY-MM-DD")))
        return None


def read_text(raw: Any, name: str, errors: list[FieldError], *, limit: int, required: bool):
    """Text by field name under `core.text`'s rule (issue 15): names refuse
    bidi, zero-width and control characters, codes (`contract_no` …) are NFKC
    normalised first, free text refuses bidi and control characters (NUL)."""
    value = str(raw if raw is not None else "").strip()
    if not value and required:
        errors.append(FieldError(name, _("必填")))
        return value
    try:
        value = clean_by_kind(value, kind_of_field(name)) if value else value
    except ValueError as exc:
        errors.append(FieldError(name, str(exc)))
        return value
    if len(value) > limit:  # after NFKC, which may lengthen a code
        errors.append(FieldError(name, _("不超过 %(n)s 个字符") % {"n": limit}))
    return value


def read_choice(raw: Any, name: str, errors: list[FieldError], choices, *, default=None):
    value = raw if raw not in (None, "") else default
    if value is None:
        errors.append(FieldError(name, _("必填")))
        return None
    if value not in choices.values:
        errors.append(FieldError(name, _("无效的选项：%(v)s") % {"v": str(value)[:40]}))
        return None
    return value


def read_enterprise(raw: Any, name: str, errors: list[FieldError]) -> Enterprise | None:
    """A registered enterprise, given as an Enterprise, its id or its USCC."""
    if isinstance(raw, Enterprise):
        return raw
    if raw is None or raw == "":
        errors.append(FieldError(name, _("必填")))
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        found = Enterprise.objects.filter(pk=raw).first()
    else:
        from chanrong.core.codes import normalise_uscc

        found = Enterprise.objects.filter(uscc=normalise_uscc(str(raw))).first()
    if found is None:
        errors.append(FieldError(name, _("该企业尚未在平台注册")))
    return found


def floor_fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_DOWN)


# --- who hears about it ----------------------------------------------------------------


def enterprise_users(enterprise_id: int | None):
    if enterprise_id is None:
        return User.objects.none()
    return User.objects.filter(enterprise_id=enterprise_id, is_active=True)


def institution_users(institution_id: int | None):
    if institution_id is None:
        return User.objects.none()
    return User.objects.filter(institution_id=institution_id, is_active=True)


def agency_users(agency_id: int | None):
    if agency_id is None:
        return User.objects.none()
    return User.objects.filter(agency_id=agency_id, is_active=True)


# --- the core-enterprise list ----------------------------------------------------------


def is_listed_core(enterprise_id: int, on: date | None = None) -> bool:
    """Whether the enterprise is a member of a 应收账款核心企业名单
    (registry ListType.RECEIVABLES_CORE) in a version in force on `on`:
    published, effective from on or before that day and not yet replaced
    (registry.models.ListEntryQuerySet.in_force, the same rule as
    registry.services.eligibility)."""
    return (
        ListEntry.objects.in_force(on)
        .filter(
            enterprise_id=enterprise_id,
            project__isnull=True,
            version__list__list_type=ListType.RECEIVABLES_CORE,
        )
        .exists()
    )


# --- locks -----------------------------------------------------------------------------


def lock_receivable(pk: int):
    """The receivable's row, locked until the transaction ends: the one point
    that serialises every change of its `financed` and `vouchered` totals.

    FOR NO KEY UPDATE (PostgreSQL; SQLite has one writer anyway): it
    serialises those changes among themselves like FOR UPDATE, but not the
    inserts that merely reference the row (a voucher's children, a
    financing's own row), which take KEY SHARE locks: a split deep in a
    voucher tree never waits for a financing on the payable it came from.
    Only the receivable's row is locked, nothing joined to it."""
    from ..models import Receivable

    return Receivable.objects.select_for_update(no_key=True).get(pk=pk)


# --- refusing before anything is locked ------------------------------------------------


def guard(machine: StateMachine, name: str, obj, actor) -> None:
    """Refuse as `apply_transition` would — but actor first (403), then
    state (409): someone who may never act on the object learns nothing
    about its state, and refusals happen before anything is locked."""
    transition = machine.transitions[name]
    if not transition.allowed(actor, obj):
        raise NotAllowed(_("无权执行「%(action)s」") % {"action": transition.label or name})
    state = getattr(obj, machine.field)
    if state not in transition.source:
        display = getattr(obj, f"get_{machine.field}_display")()
        raise Conflict(
            _("当前状态为「%(state)s」，不能执行「%(action)s」")
            % {"state": display, "action": transition.label or name},
            code="invalid_transition",
        )
