"""Budgets and publication, and the history written in bulk: applications, objections, the ledger."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal

from chanrong.policy import services
from chanrong.policy.models import (
    Application,
    ApplicationState,
    BudgetYear,
    EnterpriseYear,
    LedgerEntry,
    LedgerKind,
    Objection,
    Programme,
    ProgrammeKind,
)
from chanrong.policy.services import pools as pool_services

from ..base import bulk_set
from .common import (
    ENT2_USER,
    ENT_USER,
    FINANCE_ADMIN,
    FINANCE_STAFF,
    INDUSTRY_ADMIN,
    MILLION,
    OBJECTION_NAMES,
    OBJECTION_TEXT,
    _after,
    _at,
)
from .stories import Story, _loan_no
from .world import World

# --- budgets, publication, and the history written in bulk --------------------------------


def appropriation(need: Decimal, standard: int) -> Decimal:
    """A year's appropriation: the standard sum, or, when the year's approvals
    need more than that with 15 % and 500,000 of room, that rounded up to the
    next million.

    Up by ROUND_CEILING: Decimal's `//` truncates toward zero, so the integer
    idiom `-(-x // m) * m` rounded *down* here, and at demo scale 10 a year's
    approvals overran its budget (the budget_never_overrun constraint)."""
    wanted = need * Decimal("1.15") + Decimal(500_000)
    if wanted <= standard:
        return Decimal(standard)
    millions = (wanted / MILLION).to_integral_value(rounding=ROUND_CEILING)
    return millions * MILLION


def _budgets_and_publish(world: World, stories: list[Story]) -> None:
    """Appropriate each year (the standard sum, more when the history needs
    it, with room left for this year's reviews), fill the pools, publish;
    close the programme whose period is over."""
    need: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for story in stories:
        if "approve" in story.happened:
            need[(story.key, story.year)] += story.amount
    for spec in world.specs.values():
        programme = world.programmes[spec.key]
        admin = world.user(spec.owner)
        if spec.state == "draft":
            continue
        if spec.kind in (ProgrammeKind.BRIDGE, ProgrammeKind.RISK_POOL):
            pool_services.add_capital(
                admin, programme, Decimal(spec.capital), on=spec.starts_on, note="财政注资"
            )
        else:
            for year in range(spec.starts_on.year, min(spec.ends_on.year, world.today.year) + 1):
                services.set_appropriation(
                    admin, programme, year, appropriation(need[(spec.key, year)], spec.budget)
                )
        services.publish_programme(admin, programme)
        if spec.state == "closed":
            services.close_programme(admin, programme)
    # Fresh rows: the objects the services were handed hold stale caches (the pool).
    for key, programme in world.programmes.items():
        world.programmes[key] = Programme.objects.get(pk=programme.pk)


def _write_history(world: World, stories: list[Story]) -> None:
    rng = world.rng
    users = world.users
    rows: list[Application] = []
    times: list[tuple[datetime, datetime]] = []
    applicant_user = {
        users[ENT_USER].enterprise_id: users[ENT_USER],
        users[ENT2_USER].enterprise_id: users[ENT2_USER],
    }
    vouchers: dict[int, int] = defaultdict(int)
    ordered = sorted(
        stories, key=lambda s: (s.events[0][1], s.key, s.period, _loan_no(s), s.award_item)
    )
    for story in ordered:
        programme = world.programmes[story.key]
        events = story.happened
        stamps = {name: _at(rng, day) for name, day in story.events}
        state = story.state
        first_name = story.events[0][0]
        submitter = (
            applicant_user.get(story.enterprise_id)
            if story.enterprise_id
            else world.bank_users.get(story.institution_id)
        )
        paid_on = events.get("pay")
        voucher = ""
        if paid_on:
            vouchers[paid_on.year] += 1
            voucher = f"{world.voucher_prefix}〔{paid_on.year}〕{vouchers[paid_on.year]:05d}号"
        decided = events.get("pay") or events.get("reject") or events.get("withdraw")
        bank_user = world.bank_users.get(story.loan.institution_id) if story.loan else None
        rows.append(
            Application(
                programme=programme,
                enterprise_id=story.enterprise_id,
                institution_id=story.institution_id,
                loan=story.loan,
                year=story.year,
                period_start=story.period[0],
                period_end=story.period[1],
                paid_cost=story.paid_cost,
                award_item=story.award_item,
                amount=story.amount,
                calculation=story.calculation,
                state=state,
                auto_built=story.auto,
                reason=story.reason,
                notice_starts_on=story.notice[0] if story.notice else None,
                notice_ends_on=story.notice[1] if story.notice else None,
                voucher_no=voucher,
                paid_on=paid_on,
                bank_confirmed_at=stamps.get("bank_confirm"),
                bank_confirmed_by=bank_user if "bank_confirm" in events else None,
                submitted_by=submitter if "submit" in events else None,
                submitted_at=stamps.get("submit"),
                verified_by=users[story.verifier] if "verify" in events else None,
                approved_by=users[FINANCE_ADMIN] if "approve" in events else None,
                decided_at=stamps[_decision_name(events)] if decided else None,
            )
        )
        times.append((stamps[first_name], stamps[story.events[-1][0]]))
    Application.objects.bulk_create(rows, batch_size=world.ctx.batch_size)
    for row, (created, updated) in zip(rows, times, strict=True):
        row.created_at, row.updated_at = created, updated
    bulk_set(Application, rows, ["created_at", "updated_at"], batch_size=2000)
    for story, row in zip(ordered, rows, strict=True):
        story.row = row
    _objections(world, ordered)
    _ledger(world, ordered)


def _decision_name(events: dict[str, date]) -> str:
    for name in ("pay", "reject", "withdraw"):
        if name in events:
            return name
    raise KeyError("no decision")


def _objections(world: World, stories: list[Story]) -> None:
    rng = world.rng
    staff = world.users[INDUSTRY_ADMIN]
    rows = []
    for story in stories:
        if not story.objection:
            continue
        start = story.notice[0]
        handled = story.objection in ("dismissed", "upheld")
        handled_day = story.happened.get("reject") or _after(start, 2)
        rows.append(
            Objection(
                application=story.row,
                name=rng.choice(OBJECTION_NAMES),
                contact=f"13{rng.randint(100000000, 999999999)}",
                text=rng.choice(OBJECTION_TEXT),
                handled_at=_at(rng, handled_day) if handled else None,
                handled_by=staff if handled else None,
                resolution=(
                    "经核实异议成立，驳回申请"
                    if story.objection == "upheld"
                    else "经核实，贷款用途与申报一致，异议不成立"
                )
                if handled
                else "",
            )
        )
    Objection.objects.bulk_create(rows)
    world.ctx.counts["policy_objections"] = len(rows)


def _ledger(world: World, stories: list[Story]) -> None:
    """Commitments at 财政复核, payments, releases on a later rejection, in
    date order per budget year, with the running totals each row records;
    then the budget-year and enterprise-year totals from the same figures."""
    rng = world.rng
    budgets = {
        (b.programme_id, b.year): b
        for b in BudgetYear.objects.filter(programme__in=world.programmes.values())
    }
    moves = []
    for story in stories:
        events = story.happened
        if "approve" not in events:
            continue
        budget = budgets[(story.row.programme_id, story.year)]
        moves.append((events["approve"], 0, story, budget, LedgerKind.COMMIT, story.amount))
        if "pay" in events:
            moves.append((events["pay"], 1, story, budget, LedgerKind.PAY, story.amount))
        elif "reject" in events or "withdraw" in events:
            day = events.get("reject") or events.get("withdraw")
            moves.append((day, 1, story, budget, LedgerKind.RELEASE, -story.amount))
    moves.sort(key=lambda m: (m[0], m[1], m[2].row.pk))
    staff = world.users[FINANCE_STAFF]
    admin = world.users[FINANCE_ADMIN]
    totals: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    rows, stamps = [], []
    for day, _order, story, budget, kind, amount in moves:
        running = totals[budget.pk]
        if kind == LedgerKind.COMMIT:
            running[0] += amount
        elif kind == LedgerKind.PAY:
            running[0] -= amount
            running[1] += amount
        else:
            running[0] += amount
        rows.append(
            LedgerEntry(
                budget=budget,
                application=story.row,
                kind=kind,
                amount=amount,
                committed_after=running[0],
                paid_after=running[1],
                actor=staff if kind == LedgerKind.PAY else admin,
            )
        )
        stamps.append(_at(rng, day))
    LedgerEntry.objects.bulk_create(rows, batch_size=world.ctx.batch_size)
    for row, stamp in zip(rows, stamps, strict=True):
        row.created_at = stamp
    bulk_set(LedgerEntry, rows, ["created_at"], batch_size=2000)
    for budget in budgets.values():
        committed, paid = totals[budget.pk]
        if committed or paid:
            BudgetYear.objects.filter(pk=budget.pk).update(committed=committed, paid=paid)
    holdings: dict[tuple[int, int, int], list[Decimal]] = defaultdict(
        lambda: [Decimal(0), Decimal(0)]
    )
    for story in stories:
        if story.enterprise_id and story.holds:
            slot = holdings[(story.row.programme_id, story.year, story.enterprise_id)]
            slot[1 if story.state == ApplicationState.PAID else 0] += story.amount
    EnterpriseYear.objects.bulk_create(
        [
            EnterpriseYear(
                programme_id=p, year=y, enterprise_id=e, committed=values[0], paid=values[1]
            )
            for (p, y, e), values in sorted(holdings.items())
        ],
        batch_size=world.ctx.batch_size,
    )
