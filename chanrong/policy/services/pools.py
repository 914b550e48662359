"""What the two revolving pools (转贷应急, 风险补偿) share: capital, the
pool row lock, movements and the running balance, and reading money and
dates from a form or a request body.

The pool's rule — its balance (capital − outstanding − paid out + recovered)
is never below zero — holds under any number of concurrent movements because
every movement first locks the pool row (SELECT … FOR UPDATE; SQLite has a
single writer anyway), checks the balance under the lock and writes the new
totals and the movement in the same transaction. The database's check
constraint `pool_never_negative` would refuse a row that broke the rule
should any path ever skip the lock.

Money is Decimal 元 with at most two decimals (the fen); a movement's
`amount` is always the money moved (positive), its effect on the balance
follows from its kind (`EFFECT`): a fee is income of the fund and leaves the
balance unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.models import User
from chanrong.core import audit
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.workflow import StateMachine

from .. import permissions as perms
from ..models import (
    POOL_KINDS,
    Pool,
    PoolMovement,
    PoolMovementKind,
    Programme,
    ProgrammeKind,
    ProgrammeState,
)

ZERO = Decimal(0)
FEN = Decimal("0.01")
#: Larger than any pool; keeps a typo (or an attack) out of the 20-digit column.
MAX_AMOUNT = Decimal("1000000000000")

#: How each kind of movement changes the pool's balance.
EFFECT = {
    PoolMovementKind.CAPITAL: 1,
    PoolMovementKind.DRAW: -1,
    PoolMovementKind.REPAY: 1,
    PoolMovementKind.FEE: 0,
    PoolMovementKind.COMPENSATE: -1,
    PoolMovementKind.RECOVER: 1,
}


def yuan(value: Decimal) -> str:
    return f"{value:,.2f}"


# --- input ---------------------------------------------------------------------------


def read_money(raw: Any, name: str, errors: list[FieldError], *, required: bool = True):
    """A positive amount in 元 with at most two decimals ("1,000.50" is fine)."""
    if raw is None or raw == "":
        if required:
            errors.append(FieldError(name, _("必填")))
        return None
    if isinstance(raw, bool):
        errors.append(FieldError(name, _("应为金额")))
        return None
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).replace(",", "").strip())
    except InvalidOperation:
        errors.append(FieldError(name, _("应为金额")))
        return None
    if not value.is_finite():
        errors.append(FieldError(name, _("应为金额")))
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


def read_day(
    raw: Any,
    name: str,
    errors: list[FieldError],
    *,
    default: date | None = None,
    not_after: date | None = None,
) -> date | None:
    """A date (YYYY-MM-DD); `default` when blank; refused after `not_after`."""
    if raw is None or raw == "":
        if default is None:
            errors.append(FieldError(name, _("必填")))
        return default
    if isinstance(raw, date):
        value = raw
    else:
        try:
            value = date.fromisoformat(str(raw).strip())
        except ValueError:
            errors.append(FieldError(name, _("日期格式应为 YYYY-MM-DD")))
            return None
    if not_after is not None and value > not_after:
        errors.append(FieldError(name, _("不能晚于 %(d)s") % {"d": not_after}))
        return None
    return value


def read_text(raw: Any, name: str, errors: list[FieldError], *, limit: int, required: bool):
    value = str(raw or "").strip()
    if not value and required:
        errors.append(FieldError(name, _("必填")))
    elif len(value) > limit:
        errors.append(FieldError(name, _("不超过 %(n)s 个字符") % {"n": limit}))
    elif "\x00" in value:
        errors.append(FieldError(name, _("不能包含 NUL 字符")))
    return value


# --- who hears about it ----------------------------------------------------------------


def agency_users(programme: Programme):
    """The officials of the agency that runs the programme."""
    return User.objects.filter(agency_id=programme.agency_id, is_active=True)


def enterprise_users(enterprise_id: int):
    return User.objects.filter(enterprise_id=enterprise_id, is_active=True)


def institution_users(institution_id: int):
    return User.objects.filter(institution_id=institution_id, is_active=True)


# --- guards ----------------------------------------------------------------------------


def guard(machine: StateMachine, name: str, obj, actor) -> None:
    """Refuse, as `apply_transition` would (409 for the state, 403 for the
    actor), before anything else is locked or written: a movement checks
    the pool only for a transition that may happen at all."""
    transition = machine.transitions[name]
    state = getattr(obj, machine.field)
    if state not in transition.source:
        display = getattr(obj, f"get_{machine.field}_display")()
        raise Conflict(
            _("当前状态为「%(state)s」，不能执行「%(action)s」")
            % {"state": display, "action": transition.label or name},
            code="invalid_transition",
        )
    if not transition.allowed(actor, obj):
        raise NotAllowed(_("无权执行「%(action)s」") % {"action": transition.label or name})


def open_programme(programme: Programme, kind: str, day: date) -> None:
    """The programme is a published pool of `kind` whose period holds `day` (409 otherwise)."""
    if programme.kind != kind:
        raise Conflict(
            _("「%(p)s」不是%(kind)s资金池")
            % {"p": programme.name, "kind": ProgrammeKind(kind).label},
            code="wrong_programme_kind",
        )
    if programme.state != ProgrammeState.PUBLISHED or not (
        programme.starts_on <= day <= programme.ends_on
    ):
        raise Conflict(_("该政策未在受理期"), code="programme_not_open")


# --- the pool --------------------------------------------------------------------------


def lock_pool(programme_id: int) -> Pool:
    """The pool row, locked for this transaction (always locked before the
    draw or claim it moves money for, so two movements never wait on each
    other in opposite orders)."""
    return Pool.objects.select_for_update().get(programme_id=programme_id)


def record(
    pool: Pool,
    kind: str,
    amount: Decimal,
    on: date,
    actor,
    *,
    bridge=None,
    claim=None,
    note: str = "",
) -> PoolMovement:
    """One movement, after the pool's totals were updated and saved."""
    return PoolMovement.objects.create(
        pool=pool,
        kind=kind,
        amount=amount,
        balance_after=pool.balance,
        on=on,
        bridge=bridge,
        claim=claim,
        note=note[:200],
        actor=actor if getattr(actor, "pk", None) else None,
    )


def add_capital(
    actor, programme: Programme, amount: Any, *, on: Any = None, note: Any = ""
) -> Pool:
    """注资: the government adds capital to a 转贷应急 or 风险补偿 pool (a
    draft pool needs some before it can be published)."""
    if programme.kind not in POOL_KINDS:
        raise Conflict(_("该政策没有资金池"), code="not_a_pool")
    if not perms.can_manage_programme(actor, programme):
        raise NotAllowed(_("只有政策主管部门的管理员可以注资"))
    if programme.state == ProgrammeState.CLOSED:
        raise Conflict(_("政策已结束，不能再注资"), code="programme_closed")
    today = timezone.localdate()
    errors: list[FieldError] = []
    value = read_money(amount, "amount", errors)
    day = read_day(on, "on", errors, default=today, not_after=today)
    text = read_text(note, "note", errors, limit=200, required=False)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        pool = lock_pool(programme.pk)
        before = pool.capital
        pool.capital += value
        pool.save(update_fields=["capital"])
        record(
            pool,
            PoolMovementKind.CAPITAL,
            value,
            day,
            actor,
            note=text or _("注资 %(a)s 元") % {"a": yuan(value)},
        )
        audit.record(
            "policy.pool.capital",
            actor=actor,
            obj=programme,
            changes={"capital": [str(before), str(pool.capital)], "on": str(day)},
        )
    return pool


# --- reading it back -------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerRow:
    movement: PoolMovement
    effect: Decimal  # signed change of the balance
    running: Decimal  # balance after this movement, in date order


def ledger(pool: Pool) -> list[LedgerRow]:
    """Every movement in date order with the balance running beside it.

    The running balance is summed in date order (a draw recorded today for
    yesterday sits under yesterday); each movement's `balance_after` keeps
    the balance at the moment it was written, for audit."""
    rows: list[LedgerRow] = []
    running = ZERO
    for movement in pool.movements.select_related("bridge", "claim").order_by("on", "pk"):
        effect = movement.amount * EFFECT[movement.kind]
        running += effect
        rows.append(LedgerRow(movement, effect, running))
    return rows


def balance_series(rows: list[LedgerRow]) -> list[tuple[date, Decimal]]:
    """The balance at the end of each day something moved."""
    series: dict[date, Decimal] = {}
    for row in rows:
        series[row.movement.on] = row.running
    return sorted(series.items())


def chart_option(rows: list[LedgerRow], until: date | None = None) -> dict[str, Any] | None:
    """An ECharts option: the balance (万元) over time, as steps, carried on
    to `until` (today) so the last step shows."""
    series = balance_series(rows)
    if not series:
        return None
    if until is not None and until > series[-1][0]:
        series.append((until, series[-1][1]))
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 60, "right": 20, "top": 30, "bottom": 30},
        "xAxis": {"type": "time"},
        "yAxis": {"type": "value", "name": _("万元")},
        "series": [
            {
                "name": _("资金池余额"),
                "type": "line",
                "step": "end",
                "symbolSize": 5,
                "areaStyle": {"opacity": 0.15},
                "data": [[day.isoformat(), float(value / 10000)] for day, value in series],
            }
        ],
    }
