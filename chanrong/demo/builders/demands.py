"""Financing products for every demo institution, and two years of financing
demands with realistic outcomes.

Products follow the institution's kind (banks: 信用贷, 抵押贷, 质押贷, 税易贷,
科创贷, 绿色信贷 …; guarantee companies 担保贷; insurers 保险; leasing
companies 融资租赁; securities firms 债券; funds 股权投资; micro-loan companies
small 信用贷) and its footprint (a county bank lends in 嘉善 only).

Demands are dispatched exactly as `demands.services.publish_demand` would:
to the institutions whose published products the demand can qualify for
(the same pure `finance.eligibility.evaluate`), plus a preferred one, each
to its branch nearest the enterprise (`choose_branch`), with working-day
deadlines (`core.workdays.deadline_after`). Their histories then run along
the declared transitions (claim → offer → acceptance → 授信 → 放款, or 未获批,
谢绝, 超时, 撤回) with timeline events worded as the services word them.
Rows are bulk-inserted and not audited one by one (the demo build records one
audit entry).

Dates are placed relative to the build day (`ctx.today`), not the clock:
the history runs over the HISTORY_DAYS before it and stops at its start
(`ctx.history_end`), so no event is later than the moment of the build.
Stories that would end after it start earlier instead; demands still open
stop where the history stops (a claim or offer due later has not happened).
Open dispatches are therefore due today or in the next working days. What
the SLA (demands.sla, the scheduler's 5-minute run) would have done to a
dispatch more than QUIET_WORKDAYS working days past due — remind, then
expire — is in the history; the last few working days are left to the live
scheduler, so a demo reminds and re-dispatches within minutes of its start.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache

from django.db.models import F
from django.utils.translation import gettext as _

from chanrong.accounts.models import User
from chanrong.core.workdays import add_workdays, workdays_between
from chanrong.demands.models import (
    Demand,
    DemandEvent,
    DemandKind,
    DemandState,
    Dispatch,
    DispatchState,
    Feedback,
    Offer,
    Urgency,
)
from chanrong.demands.services import choose_branch, demand_facts
from chanrong.demands.sla import redispatch_workdays
from chanrong.demo.vocabulary import (
    COMMENTS,
    DECLINE_REASONS,
    PURPOSES,
    REJECT_REASONS,
    TERMS,
    WITHDRAW_REASONS,
)
from chanrong.finance import eligibility as el
from chanrong.finance.models import (
    FinancialInstitution,
    Product,
    ProductState,
)
from chanrong.finance.services import ConditionsBuilder, effective_rate_max, effective_rate_min
from chanrong.registry.models import Enterprise

from .base import DemoContext, bulk_set, default_today, workdays_before
from .demand_facts import FactsReader
from .demand_products import HISTORY_DAYS, TZ, WAN, C, _d, _moment, _stamp, build_products

NAME = "demands"

BASE_DEMANDS = 1200
CLAIM_WORKDAYS = 2
DECIDE_WORKDAYS = 10
# The enterprises behind ent_user and ent2_user (builders.enterprises.DEMO_ENTERPRISES).
DEMO_ENTERPRISE_NAMES = ("嘉善精工机械有限公司", "嘉善新材料科技有限公司")


@dataclass
class Counts:
    values: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int) -> None:
        self.values[key] = self.values.get(key, 0) + n


def build(ctx_or_rng, *, scale: float | None = None, today: date | None = None) -> None:
    """Build products and demands. Takes the demo's DemoContext, or a bare
    random.Random, a scale and a build day (everything else is looked up by name)."""
    if isinstance(ctx_or_rng, DemoContext):
        ctx = ctx_or_rng
        product_rng, demand_rng, scale = ctx.rng("products"), ctx.rng("demands"), ctx.scale
        today = ctx.today
        counts = ctx.counts
    else:
        seed = ctx_or_rng.getrandbits(64)
        product_rng, demand_rng = (
            random.Random(f"{seed}:products"),
            random.Random(f"{seed}:demands"),
        )
        scale = 1.0 if scale is None else scale
        today = today or default_today()
        counts = {}
    products = build_products(product_rng, today)
    counts["products"] = counts.get("products", 0) + len(products)
    built = build_demands(
        demand_rng, scale, [p for p in products if p.state == ProductState.PUBLISHED], today
    )
    for key, value in built.values.items():
        counts[key] = counts.get(key, 0) + value


@lru_cache(maxsize=4096)
def _workday_after(day: date, days: int) -> date:
    return add_workdays(day, days)


@lru_cache(maxsize=4096)
def _workdays_between(start: date, end: date) -> int:
    return workdays_between(start, end)


def deadline(moment: datetime, days: int) -> datetime:
    """core.workdays.deadline_after, with the calendar walk cached per day."""
    return datetime.combine(_workday_after(moment.date(), days), time(23, 59, 59), tzinfo=TZ)


def _round_wan(value: float, step: int = 10) -> Decimal:
    wan = max(step, int(math.floor(value / step + 0.5)) * step)
    return Decimal(wan) * WAN


TYPICAL_WAN = {"large": 3000, "medium": 800, "small": 200, "micro": 50, "": 100}
KIND_WEIGHTS = (
    (DemandKind.DEBT, 80),
    (DemandKind.LEASING, 7),
    (DemandKind.GUARANTEE, 6),
    (DemandKind.EQUITY, 4),
    (DemandKind.INSURANCE, 3),
)


@dataclass
class Story:
    """One demand's history as plain values, before it becomes rows."""

    demand: Demand
    dispatches: list[Dispatch] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    events: list[DemandEvent] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)
    preferred: list[int] = field(default_factory=list)
    accepted: Offer | None = None
    # (dispatch, offer) pairs to link once rows have keys
    links: list[tuple[Dispatch, Offer]] = field(default_factory=list)
    # Still open at the build (dispatched, claimed, negotiating): stops at the cutoff.
    open: bool = False
    outcome: str = ""

    def last_moment(self) -> datetime:
        """The latest thing that happens in this story (ratings excluded)."""
        moments = [e.created_at for e in self.events]
        if self.demand.updated_at is not None:
            moments.append(self.demand.updated_at)
        return max(moments)

    def event(
        self, at: datetime, verb: str, message: str, institution_id=None, actor=None, private=False
    ):
        self.events.append(
            DemandEvent(
                created_at=at,
                verb=verb,
                message=message[:500],
                institution_id=institution_id,
                private=private,
                actor=actor,
                actor_name=actor.username if actor else "",
            )
        )


class World:
    """What the demand stories draw on: enterprises, products, branches, users."""

    def __init__(self, products: list[Product], today: date):
        self.today = today
        # The history stops at the start of the build day.
        self.cutoff = _moment(today, 0)
        self.products = sorted(products, key=lambda p: (p.institution_id, p.pk))
        self.builder = ConditionsBuilder(self.products)
        self.conditions = {p.pk: self.builder.build(p) for p in self.products}
        self.institutions = {
            i.pk: i for i in FinancialInstitution.objects.order_by("pk").select_related("region")
        }
        self.branches: dict[tuple[int, str], object] = {}
        self.ent_users = {
            u.enterprise_id: u for u in User.objects.filter(enterprise__isnull=False).order_by("pk")
        }
        self.inst_users = {}
        for user in User.objects.filter(institution__isnull=False).order_by("pk"):
            self.inst_users.setdefault(user.institution_id, user)
        # Each institution's credit appetite, drawn from its name (not from the
        # story's random stream): some lenders say yes more often than others.
        self.appetite = {
            pk: random.Random(f"appetite:{i.name}").gauss(0, 0.9)
            for pk, i in self.institutions.items()
        }
        self.by_pk = {p.pk: p for p in self.products}
        self.reader = FactsReader(None)  # build_demands gives one that reads ahead
        # The institution of the demo bank's staff (bank_staff), if any.
        self.demo_bank = (
            User.objects.filter(username="bank_staff")
            .values_list("institution_id", flat=True)
            .first()
        )

    def branch(self, institution_id: int, region):
        key = (institution_id, region.code)
        if key not in self.branches:
            self.branches[key] = choose_branch(institution_id, region)
        return self.branches[key]

    def facts(self, enterprise, day: date) -> el.EnterpriseFacts:
        """finance.services.enterprise_facts(enterprise, today=day)."""
        return self.reader.facts(enterprise.pk, day)

    def matches(self, enterprise, facts, demand: Demand, today: date) -> dict[int, list[int]]:
        wanted = demand_facts(demand)
        out: dict[int, list[int]] = {}
        for product in self.products:
            if el.evaluate(
                self.conditions[product.pk], facts, wanted, today=today, explain=False
            ).possible:
                out.setdefault(product.institution_id, []).append(product.pk)
        return out


def demand_count(scale: float) -> int:
    return max(12, round(BASE_DEMANDS * scale))


def build_demands(rng: random.Random, scale: float, products: list[Product], today: date) -> Counts:
    counts = Counts()
    enterprises = list(
        Enterprise.objects.select_related("region__parent__parent", "industry").order_by("uscc")
    )
    if not enterprises:
        return counts
    world = World(products, today)
    world.reader = FactsReader([e.pk for e in enterprises])  # reads ahead
    special = [e for e in enterprises if e.name in DEMO_ENTERPRISE_NAMES]
    special.sort(key=lambda e: DEMO_ENTERPRISE_NAMES.index(e.name))
    stories: list[Story] = []
    last_day = today - timedelta(days=1)
    end = _moment(last_day, 17)
    total = demand_count(scale)
    # The demo accounts' enterprises get a demand in every interesting state.
    # "stale", ("due", n): published so that the claim deadline passed n
    # working days before the build day and nobody has claimed it: the
    # scheduler's first SLA run reminds (n = 1) or expires and re-dispatches
    # it (n = 3).
    scripted = [
        (0, "disbursed", 200), (0, "negotiating", 12), (0, "dispatched", 1),
        (0, "draft", 0), (0, "rejected", 150), (1, "claimed", 3), (1, "disbursed", 90),
        (1, "withdrawn", 60), (0, "stale", ("due", 1)), (1, "stale", ("due", 3)),
    ]  # fmt: skip
    for index, outcome, when in scripted:
        if index < len(special):
            hours = rng.randint(1, 6)
            if isinstance(when, tuple):
                day = workdays_before(today, when[1] + CLAIM_WORKDAYS)
                at = _moment(day, 10 + hours)
            else:
                at = end - timedelta(days=when, hours=hours)
            stories.append(_told(rng, world, special[index], at, outcome))
    weights = [e.revenue or Decimal(1) for e in enterprises]
    picks = [float(w) ** 0.3 for w in weights]
    cum = []
    acc = 0.0
    for p in picks:
        acc += p
        cum.append(acc)
    for _n in range(max(0, total - len(stories))):
        enterprise = rng.choices(enterprises, cum_weights=cum, k=1)[0]
        # Later days a little likelier: the platform's use grows.
        offset = int(HISTORY_DAYS * (1 - rng.random() ** 1.3))
        day = last_day - timedelta(days=HISTORY_DAYS - offset)
        at = _moment(day, rng.randint(8, 17), rng.randint(0, 59))
        stories.append(_told(rng, world, enterprise, at, None))
    _link_projects(stories)
    _write(stories, counts)
    return counts


OPEN_OUTCOMES = ("dispatched", "stale", "claimed", "negotiating")


def _told(rng: random.Random, world: World, enterprise, at: datetime, outcome: str | None):
    """One demand's story, as it stands at the start of the build day.

    A story that has ended would not end after the build: if it would, it
    is told again from an earlier start. An open story stops where the
    history stops (inside `_lend`). Either way, what the SLA would have done
    to long-overdue dispatches is added (`_supervise`)."""
    for _attempt in range(20):
        story = _story(rng, world, enterprise, at, outcome)
        last = story.last_moment()
        if story.open or last < world.cutoff:
            break
        at -= (last - world.cutoff) + timedelta(hours=rng.randint(24, 96))
    # A rating comes after the outcome: one not given yet is left out.
    story.feedback = [f for f in story.feedback if f.created_at < world.cutoff]
    _supervise(rng, world, story)
    return story


# The share of dispatches that the history could have expired (at most
# quiet_workdays() past due) left to the live scheduler to expire and re-dispatch.
SPARED = 0.1


def quiet_workdays() -> int:
    """Working days past due that the history leaves for the live scheduler.

    An overdue dispatch is reminded at once and expired (then re-dispatched)
    after redispatch_workdays() more working days; leaving two days beyond
    that means the first SLA run after the build both reminds and re-dispatches.
    """
    return redispatch_workdays() + 2


def _sla_expire(world: World, story: Story, d: Dispatch, stage: str, due: datetime) -> datetime:
    """What demands.sla does to a dispatch left past its deadline: remind the
    supervising government at its next run, expire it after the second deadline."""
    name = world.institutions[d.institution_id]
    what = _("接单") if stage == "claim" else _("办理")
    second = deadline(due, redispatch_workdays())
    story.event(
        due + timedelta(minutes=5),
        f"dispatch.escalate_{stage}",
        _(
            "督办：%(enterprise)s 的融资需求派给 %(institution)s 后，未在期限（%(due)s）内%(what)s；"
            "%(second)s 前仍未处理将重新派单"
        )
        % {
            "enterprise": story.demand.enterprise.name,
            "institution": name,
            "due": due.strftime("%Y-%m-%d %H:%M"),
            "what": what,
            "second": second.strftime("%Y-%m-%d %H:%M"),
        },
        institution_id=d.institution_id,
    )
    when = second + timedelta(minutes=5)
    d.state = DispatchState.EXPIRED
    story.event(
        when, "dispatch.expire",
        _("%(name)s 未在期限内%(what)s，派单超时") % {"name": name, "what": what},
        institution_id=d.institution_id,
    )  # fmt: skip
    return when


LIVE = (DispatchState.DISPATCHED, DispatchState.CLAIMED, DispatchState.OFFERED,
        DispatchState.ACCEPTED, DispatchState.GRANTED)  # fmt: skip


def _supervise(rng: random.Random, world: World, story: Story) -> None:
    """Apply the SLA's history to the open dispatches past due at the build day.

    A dispatch whose second deadline passed before the build is reminded and
    expired in the history, as the scheduler would have done it, except a
    few (SPARED) that are at most quiet_workdays() working days past due:
    those and the ones due in the last working day or two are left for the
    live scheduler, which reminds them (待提醒 → 已提醒) and expires and
    re-dispatches the spared ones on its first run after the build."""
    demand = story.demand
    if demand.state not in (DemandState.DISPATCHED, DemandState.CLAIMED, DemandState.NEGOTIATING):
        return
    if story.outcome == "stale":
        return  # scripted for the live scheduler
    quiet = quiet_workdays()
    latest = None
    for d in story.dispatches:
        if d.state == DispatchState.DISPATCHED:
            stage, due = "claim", d.claim_due_at
        elif d.state == DispatchState.CLAIMED:
            stage, due = "decide", d.decide_due_at
        else:
            continue
        if due is None or due >= world.cutoff:
            continue
        second = deadline(due, redispatch_workdays()) + timedelta(minutes=5)
        if second >= world.cutoff:
            continue  # not yet expired: the live scheduler reminds it
        if _workdays_between(due.date(), world.today) <= quiet and rng.random() < SPARED:
            continue
        when = _sla_expire(world, story, d, stage, due)
        latest = when if latest is None else max(latest, when)
    if latest is None:
        return
    if not any(d.state in LIVE for d in story.dispatches):
        demand.state = DemandState.EXPIRED
        story.event(
            latest,
            "demand.expire",
            _("%(reason)s，需求超时，待重新派单") % {"reason": _("已派单机构均未在期限内响应")},
        )
    demand.updated_at = max(demand.updated_at, latest)


def _link_projects(stories: list[Story]) -> None:
    """About a third of the loans and leases of enterprises with registered
    projects name one of them. Drawn from a generator of its own, so the
    rest of the history does not change with it."""
    from chanrong.registry.models import Project

    owned: dict[int, list[int]] = {}
    for pk, owner in Project.objects.order_by("owner_id", "name", "pk").values_list(
        "pk", "owner_id"
    ):
        owned.setdefault(owner, []).append(pk)
    pick = random.Random("chanrong-demo-demand-projects")
    for story in stories:
        demand = story.demand
        projects = owned.get(demand.enterprise_id)
        wants = projects and demand.kind in (DemandKind.DEBT, DemandKind.LEASING)
        if wants and pick.random() < 0.35:
            demand.project_id = pick.choice(projects)


def _pick_outcome(rng: random.Random, age_days: int) -> str:
    if age_days < 3:
        table = (("dispatched", 60), ("claimed", 30), ("negotiating", 10))
    elif age_days < 20:
        table = (("claimed", 20), ("negotiating", 35), ("granted", 15), ("disbursed", 15),
                 ("rejected", 5), ("withdrawn", 5), ("expired", 5))  # fmt: skip
    else:
        table = (("disbursed", 58), ("rejected", 12), ("withdrawn", 10), ("expired", 8),
                 ("granted", 4), ("negotiating", 3), ("draft", 2), ("redispatched", 3))  # fmt: skip
    names = [n for n, _w in table]
    return rng.choices(names, weights=[w for _n, w in table], k=1)[0]


def _story(
    rng: random.Random, world: World, enterprise, at: datetime, outcome: str | None
) -> Story:
    kind = rng.choices([k for k, _w in KIND_WEIGHTS], weights=[w for _k, w in KIND_WEIGHTS])[0]
    typical = TYPICAL_WAN.get(enterprise.size or "", 100)
    amount = _round_wan(typical * math.exp(rng.gauss(0, 0.6)), 10)
    collateral = [] if rng.random() < 0.45 else rng.sample(
        [C.REAL_ESTATE, C.EQUIPMENT, C.RECEIVABLES, C.IP, C.WAREHOUSE_RECEIPT], k=rng.randint(1, 2)
    )  # fmt: skip
    if kind in (DemandKind.EQUITY, DemandKind.LEASING):
        amount *= 4  # equity rounds and leased lines come in larger tickets
    if outcome is not None:
        # The demo accounts' demands: plain loans every local bank answers.
        kind, amount = DemandKind.DEBT, Decimal(rng.choice((100, 150, 200, 300))) * WAN
    owner = world.ent_users.get(enterprise.pk)
    demand = Demand(
        enterprise=enterprise,
        created_by=owner,
        kind=kind,
        amount=amount,
        term_months=rng.choice(TERMS[kind]),
        purpose=rng.choice(PURPOSES[kind]),
        rate_max=None
        if outcome is not None or rng.random() < 0.5
        else _d(round(rng.uniform(4.0, 7.0), 1)),
        collateral_offered=[str(c) for c in collateral],
        urgency=rng.choices(list(Urgency.values), weights=(70, 22, 8))[0],
        share_profile=False,
        state=DemandState.DRAFT,
        exclusive=False,
    )
    story = Story(demand)
    age = (world.today - at.date()).days - 1
    scripted = outcome is not None
    outcome = outcome or _pick_outcome(rng, age)
    story.open = outcome in OPEN_OUTCOMES
    story.outcome = outcome
    story.event(
        at - timedelta(minutes=20), "demand.create", _("企业创建了融资需求（草稿）"), actor=owner
    )
    if outcome == "draft":
        demand.created_at = at - timedelta(minutes=20)
        demand.updated_at = at
        return story
    facts = world.facts(enterprise, at.date())
    matched = world.matches(enterprise, facts, demand, at.date())
    if rng.random() < 0.12:
        extra = rng.choice(sorted(world.institutions))
        story.preferred = [extra]
        matched.setdefault(extra, [])
    demand.published_at = at
    demand.round = 1
    story.event(at, "demand.publish", _("企业发布了融资需求"), actor=owner)
    if not matched:
        demand.state = DemandState.PUBLISHED
        story.event(
            at, "demand.no_target", _("暂无符合条件的金融机构，需求保持已发布状态，待重新派单")
        )
        _finish(demand, at, None)
        return story
    claim_due = deadline(at, CLAIM_WORKDAYS)
    if outcome == "dispatched" and claim_due < world.cutoff and not scripted:
        # Nobody at all answering by the deadline is the exception the
        # scripted "stale" stories show; here someone has claimed it.
        outcome = story.outcome = "claimed"
        story.open = True
    for institution_id in sorted(matched):
        dispatch = Dispatch(
            institution_id=institution_id,
            branch=world.branch(institution_id, enterprise.region),
            state=DispatchState.DISPATCHED,
            round=1,
            matched_products=matched[institution_id],
            preferred=institution_id in story.preferred,
            dispatched_at=at,
            claim_due_at=claim_due,
        )
        story.dispatches.append(dispatch)
        story.event(
            at, "dispatch.new",
            _("新的融资需求已派给贵机构，请于 %(due)s 前接单") % {"due": claim_due.strftime("%Y-%m-%d %H:%M")},
            institution_id=institution_id, private=True,
        )  # fmt: skip
    demand.state = DemandState.DISPATCHED
    story.event(
        at, "demand.dispatch", _("已派单给 %(n)s 家金融机构") % {"n": len(story.dispatches)}, actor=owner
    )  # fmt: skip
    _play(rng, world, story, outcome, at)
    return story


def _play(rng: random.Random, world: World, story: Story, outcome: str, at: datetime) -> None:
    """Run the dispatches along the declared transitions to `outcome`."""
    demand = story.demand
    dispatches = story.dispatches
    if outcome == "dispatched":
        _finish(demand, at, None)
        return
    if outcome == "stale":
        # Past its claim deadline: most institutions declined in time, two
        # (the demo bank among them when it was asked) let it pass unanswered.
        keep = {d.institution_id for d in dispatches[-2:]}
        keep |= {world.demo_bank} & {d.institution_id for d in dispatches}
        latest = at
        for d in dispatches:
            if d.institution_id not in keep:
                latest = at + timedelta(hours=rng.randint(2, 30))
                _decline(rng, world, story, d, latest)
        _finish(demand, max(latest, at), None)
        return
    if outcome in ("expired", "redispatched"):
        # As demands.sla does it: the supervising government is reminded at
        # the deadline, the dispatch expires after the second deadline.
        when = deadline(max(d.claim_due_at for d in dispatches), redispatch_workdays())
        when += timedelta(minutes=5)
        for d in dispatches:
            if rng.random() < 0.3:
                _decline(rng, world, story, d, at + timedelta(hours=rng.randint(2, 30)))
            else:
                when = max(when, _sla_expire(world, story, d, "claim", d.claim_due_at))
        demand.state = DemandState.EXPIRED
        story.event(
            when,
            "demand.expire",
            _("%(reason)s，需求超时，待重新派单") % {"reason": _("已派单机构均未在期限内响应")},
        )
        if outcome == "redispatched":
            # The same SLA run sends it round again.
            again = when + timedelta(seconds=rng.randint(1, 50))
            demand.round = 2
            due = deadline(again, CLAIM_WORKDAYS)
            for d in dispatches:
                if d.state == DispatchState.EXPIRED:
                    d.state, d.round, d.dispatched_at, d.claim_due_at = (
                        DispatchState.DISPATCHED, 2, again, due,
                    )  # fmt: skip
            demand.state = DemandState.DISPATCHED
            story.event(
                again,
                "demand.redispatch",
                _("已派单给 %(n)s 家金融机构")
                % {"n": sum(d.state == DispatchState.DISPATCHED for d in dispatches)},
            )
            live = [d for d in dispatches if d.state == DispatchState.DISPATCHED]
            if live:  # then one of them takes it and lends
                _lend(rng, world, story, live, again, "disbursed")
                return
        _finish(demand, when, None)
        return
    _lend(rng, world, story, dispatches, at, outcome)


GRADE_EFFECT = {"A": 0.8, "B": 0.3, "M": 0.0, "C": -0.8, "D": -1.5}
SIZE_EFFECT = {"large": 0.3, "medium": 0.2, "small": 0.0, "micro": -0.3}


def approval_odds(world: World, story: Story, d: Dispatch) -> float:
    """How likely this institution is to say yes to this demand (0..1): its own
    appetite, a branch in the enterprise's city, the tax credit grade and size,
    collateral that fits, and an amount well inside the product's limit. The
    demo's outcomes follow these, so the learned ranking has something real
    to learn (without them every institution would win by a coin toss)."""
    demand = story.demand
    enterprise = demand.enterprise
    z = world.appetite.get(d.institution_id, 0.0)
    if d.branch is not None and d.branch.region_id[:4] == enterprise.region_id[:4]:
        z += 1.2
    z += GRADE_EFFECT.get(enterprise.tax_grade or "", -0.3)
    z += SIZE_EFFECT.get(enterprise.size or "", -0.2)
    product = world.by_pk.get(d.matched_products[0]) if d.matched_products else None
    if product is None:
        z -= 0.8  # asked as a preferred institution with no matching product
    else:
        if product.collateral_required:
            z += 0.5 if set(demand.collateral_offered) & set(product.collateral_options) else -0.5
        if demand.amount > product.amount_max * Decimal("0.8"):
            z -= 0.6
    return 1 / (1 + math.exp(-z))


def _decline(rng, world, story: Story, d: Dispatch, when: datetime) -> None:
    d.state = DispatchState.DECLINED
    d.decline_reason = rng.choice(DECLINE_REASONS)
    d.decided_at = when
    story.event(
        when, "dispatch.decline",
        _("%(name)s 谢绝了该需求：%(reason)s") % {"name": world.institutions[d.institution_id], "reason": d.decline_reason},
        institution_id=d.institution_id, actor=world.inst_users.get(d.institution_id),
    )  # fmt: skip


def _claim(
    rng, world, story: Story, d: Dispatch, start: datetime, limit: datetime | None = None
) -> datetime | None:
    """Claim `d` within its claim window; None if that would be at or after
    `limit` (an open story's history stops there: not claimed yet)."""
    window = max(1.0, (d.claim_due_at - start).total_seconds() / 3600 - 1)
    when = start + timedelta(hours=rng.uniform(0.5, min(window, 40)))
    if limit is not None and when >= limit:
        return None
    d.state = DispatchState.CLAIMED
    d.claimed_at = when
    d.claimed_by = world.inst_users.get(d.institution_id)
    d.decide_due_at = deadline(when, DECIDE_WORKDAYS)
    story.event(
        when, "dispatch.claim", _("%(name)s 已接单") % {"name": world.institutions[d.institution_id]},
        institution_id=d.institution_id, actor=d.claimed_by,
    )  # fmt: skip
    return when


def _offer(
    rng, world, story: Story, d: Dispatch, start: datetime, products, limit: datetime | None = None
) -> datetime | None:
    """Offer on claimed `d`; None if that would be at or after `limit` (not yet)."""
    demand = story.demand
    when = start + timedelta(hours=rng.uniform(4, 24 * 6))
    if limit is not None and when >= limit:
        return None
    product = products.get(d.matched_products[0]) if d.matched_products else None
    cap = product.amount_max if product else demand.amount
    amount = min(cap, _round_wan(float(demand.amount / WAN) * rng.uniform(0.6, 1.0), 5))
    rate = None
    if product is not None and effective_rate_min(product) is not None:
        low, high = effective_rate_min(product), effective_rate_max(product)
        rate = _d(round(rng.uniform(float(low), float(high)), 2))
    elif product is None:
        rate = _d(round(rng.uniform(3.6, 6.0), 2))
    offer = Offer(
        institution_id=d.institution_id,
        product=product,
        amount=amount,
        rate=rate,
        term_months=demand.term_months,
        terms=_("按产品标准办理") if product else _("个案审批"),
        created_by=d.claimed_by,
        created_at=when,
    )
    d.state = DispatchState.OFFERED
    d.decided_at = when
    story.offers.append(offer)
    story.links.append((d, offer))
    rate_text = _("，年利率 %(r)s") % {"r": el.percent(rate)} if rate is not None else ""
    story.event(
        when, "dispatch.offer",
        _("%(name)s %(what)s：%(amount)s，%(term)s 个月%(rate)s") % {
            "name": world.institutions[d.institution_id], "what": _("提交了融资方案"),
            "amount": el.wan(amount), "term": demand.term_months, "rate": rate_text,
        },
        institution_id=d.institution_id, actor=d.claimed_by,
    )  # fmt: skip
    return when


def _lend(rng, world, story: Story, dispatches: list[Dispatch], start: datetime, outcome: str):
    demand = story.demand
    owner = demand.created_by
    products = {p.pk: p for p in world.products}
    # An open story stops at the start of the build day: what would come
    # later has not happened yet.
    limit = world.cutoff if outcome in OPEN_OUTCOMES else None
    # Who responds: most claim, some decline, the rest let the deadline pass.
    claimed: list[Dispatch] = []
    latest = start
    odds = {id(d): approval_odds(world, story, d) for d in dispatches}
    for d in dispatches:
        roll = rng.random()
        if roll < 0.3 + 0.5 * odds[id(d)] or (not claimed and d is dispatches[-1]):
            when = _claim(rng, world, story, d, start, limit)
            if when is not None:
                latest = max(latest, when)
                claimed.append(d)
        elif roll < 0.8:
            when = start + timedelta(hours=rng.randint(2, 40))
            if limit is None or when < limit:
                _decline(rng, world, story, d, when)
    if not claimed:  # only in an open story: nobody has claimed it yet
        _finish(demand, latest, None)
        return
    demand.state = DemandState.CLAIMED
    if outcome == "claimed":
        _finish(demand, latest, None)
        return
    offered: list[Dispatch] = []
    for d in claimed:
        if rng.random() < 0.4 + 0.5 * odds[id(d)] or not offered and d is claimed[-1]:
            when = _offer(rng, world, story, d, d.claimed_at, products, limit)
            if when is not None:
                latest = max(latest, when)
                offered.append(d)
    if not offered:  # only in an open story: no offer yet
        _finish(demand, latest, None)
        return
    demand.state = DemandState.NEGOTIATING
    if outcome == "negotiating":
        _finish(demand, latest, None)
        return
    if outcome == "withdrawn" and rng.random() < 0.6:
        _withdraw(rng, world, story, latest + timedelta(days=rng.randint(1, 10)))
        return
    # The enterprise takes the best offer, which is most often the keenest lender's.
    winner = rng.choices(offered, weights=[odds[id(d)] ** 3 for d in offered])[0]
    offer = next(o for (d, o) in story.links if d is winner)
    accepted_at = latest + timedelta(hours=rng.uniform(2, 72))
    winner.state = DispatchState.ACCEPTED
    offer.accepted_at = accepted_at
    story.accepted = offer
    demand.outcome_institution_id = winner.institution_id
    name = world.institutions[winner.institution_id]
    story.event(
        accepted_at,
        "dispatch.accept",
        _("企业采纳了贵机构的融资方案"),
        winner.institution_id,
        owner,
        private=True,
    )
    story.event(
        accepted_at, "demand.accept", _("企业采纳了 %(name)s 的融资方案") % {"name": name},
        winner.institution_id, owner,
    )  # fmt: skip
    for d in dispatches:
        if d is winner:
            continue
        if d.state == DispatchState.OFFERED:
            d.state = DispatchState.NOT_SELECTED
            message = _("企业已采纳其他机构的融资方案，贵机构方案未被采纳")
        elif d.state in (DispatchState.DISPATCHED, DispatchState.CLAIMED):
            d.state = DispatchState.CANCELLED
            message = _("企业已采纳其他机构的融资方案，派单结束")
        else:
            continue
        story.event(accepted_at, f"dispatch.{'set_aside' if d.state == DispatchState.NOT_SELECTED else 'cancel'}",
                    message, d.institution_id, owner, private=True)  # fmt: skip
    if outcome == "withdrawn":
        _withdraw(rng, world, story, accepted_at + timedelta(days=rng.randint(1, 10)))
        return
    staff = winner.claimed_by
    if outcome == "rejected" and rng.random() < 0.5:
        when = accepted_at + timedelta(days=rng.uniform(2, 12))
        _reject(rng, story, winner, name, when, staff)
        return
    granted_at = accepted_at + timedelta(days=rng.uniform(1, 8))
    winner.state = DispatchState.GRANTED
    demand.state = DemandState.GRANTED
    demand.granted_amount = offer.amount
    story.event(
        granted_at, "demand.grant",
        _("%(name)s 反馈：已授信 %(amount)s") % {"name": name, "amount": el.wan(offer.amount)},
        winner.institution_id, staff,
    )  # fmt: skip
    if outcome == "granted":
        _finish(demand, granted_at, None)
        return
    if outcome == "rejected":
        _reject(rng, story, winner, name, granted_at + timedelta(days=rng.uniform(1, 5)), staff)
        return
    paid_at = granted_at + timedelta(days=rng.uniform(0.5, 6))
    winner.state = DispatchState.DISBURSED
    demand.state = DemandState.DISBURSED
    demand.disbursed_amount = offer.amount
    demand.disbursed_rate = offer.rate if offer.rate is not None else _d(4.5)
    demand.disbursed_term_months = offer.term_months
    demand.disbursed_on = paid_at.date()
    story.event(
        paid_at, "demand.disburse",
        _("%(name)s 反馈：已放款 %(amount)s，年利率 %(rate)s，期限 %(term)s 个月，放款日期 %(on)s") % {
            "name": name, "amount": el.wan(offer.amount), "rate": el.percent(demand.disbursed_rate),
            "term": offer.term_months, "on": paid_at.date().isoformat(),
        },
        winner.institution_id, staff,
    )  # fmt: skip
    _finish(demand, paid_at, paid_at)
    _rate(rng, world, story, paid_at, good=True)


def _reject(rng, story: Story, winner: Dispatch, name, when: datetime, staff) -> None:
    demand = story.demand
    winner.state = DispatchState.REJECTED
    demand.state = DemandState.REJECTED
    demand.rejection_reason = rng.choice(REJECT_REASONS)
    story.event(
        when, "demand.reject",
        _("%(name)s 反馈：未获批。原因：%(reason)s") % {"name": name, "reason": demand.rejection_reason},
        winner.institution_id, staff,
    )  # fmt: skip
    _finish(demand, when, when)
    _rate(rng, None, story, when, good=False)


def _withdraw(rng, world, story: Story, when: datetime) -> None:
    demand = story.demand
    reason = rng.choice(WITHDRAW_REASONS)
    demand.state = DemandState.WITHDRAWN
    demand.withdraw_reason = reason
    story.event(
        when, "demand.withdraw",
        _("企业撤回了融资需求") + (_("：%(r)s") % {"r": reason} if reason else ""),
        actor=demand.created_by,
    )  # fmt: skip
    for d in story.dispatches:
        if d.state in (DispatchState.DISPATCHED, DispatchState.CLAIMED, DispatchState.OFFERED,
                       DispatchState.ACCEPTED, DispatchState.GRANTED):  # fmt: skip
            d.state = DispatchState.CANCELLED
            story.event(
                when,
                "dispatch.cancel",
                _("企业已撤回该融资需求，派单取消"),
                d.institution_id,
                private=True,
            )
    _finish(demand, when, when)
    _rate(rng, None, story, when, good=False)


def _rate(rng, world, story: Story, when: datetime, *, good: bool) -> None:
    """Most enterprises rate the institution that handled it; a few rate others."""
    demand = story.demand
    if demand.enterprise.name in DEMO_ENTERPRISE_NAMES and good:
        return  # left for the demo user to rate
    for d in story.dispatches:
        handled = d.state in (DispatchState.DISBURSED, DispatchState.REJECTED)
        if not (handled and rng.random() < 0.65) and not (not handled and rng.random() < 0.05):
            continue
        if handled and good:
            score = rng.choices((5, 4, 3), weights=(60, 32, 8))[0]
        elif handled:
            score = rng.choices((4, 3, 2), weights=(30, 50, 20))[0]
        else:
            score = rng.choices((3, 2, 1), weights=(40, 40, 20))[0]
        story.feedback.append(
            Feedback(
                institution_id=d.institution_id,
                enterprise=demand.enterprise,
                score=score,
                comment=rng.choice(COMMENTS[score]) if rng.random() < 0.7 else "",
                created_by=demand.created_by,
                created_at=when + timedelta(days=rng.uniform(0.2, 10)),
            )
        )


def _finish(demand: Demand, last: datetime, closed: datetime | None) -> None:
    demand.created_at = (demand.published_at or last) - timedelta(minutes=20)
    demand.updated_at = last
    demand.closed_at = closed


# --- writing ---------------------------------------------------------------------------------


def _write(stories: list[Story], counts: Counts) -> None:
    demands = [s.demand for s in stories]
    # bulk_create stamps auto_now(_add) fields with the clock: keep the story's.
    times = [(d.created_at, d.updated_at) for d in demands]
    Demand.objects.bulk_create(demands, batch_size=2000)
    _stamp(Demand, demands, times)
    through = Demand.preferred_institutions.through
    through.objects.bulk_create(
        [
            through(demand_id=s.demand.pk, financialinstitution_id=pk)
            for s in stories
            for pk in s.preferred
        ],
        batch_size=2000,
    )
    dispatches = []
    for s in stories:
        for d in s.dispatches:
            d.demand = s.demand
            dispatches.append(d)
    Dispatch.objects.bulk_create(dispatches, batch_size=2000)
    offers = []
    for s in stories:
        for d, o in s.links:
            o.dispatch, o.demand = d, s.demand
            offers.append(o)
    Offer.objects.bulk_create(offers, batch_size=2000)
    accepted = []
    for s in stories:
        if s.accepted is not None:
            s.demand.accepted_offer = s.accepted
            accepted.append(s.demand)
    bulk_set(Demand, accepted, ["accepted_offer"], batch_size=2000)
    events = []
    for s in stories:
        for e in s.events:
            e.demand = s.demand
            events.append(e)
    DemandEvent.objects.bulk_create(events, batch_size=5000)
    feedback = []
    for s in stories:
        for f in s.feedback:
            f.demand = s.demand
            feedback.append(f)
    Feedback.objects.bulk_create(feedback, batch_size=2000)
    counts.add("demands", len(demands))
    counts.add("dispatches", len(dispatches))
    counts.add("offers", len(offers))
    counts.add("demand_events", len(events))
    counts.add("feedback", len(feedback))


def digest_rows():
    """Key fields of the products and demands (for demo.services.digest_rows):
    no primary keys, no timestamps."""
    yield (
        "products",
        Product.objects.order_by("institution__name", "name").values_list(
            "institution__name", "name", "kind", "amount_min", "amount_max", "state"
        ),
    )
    yield (
        "demands",
        # Drafts have no published_at: NULLs sort first on SQLite, last on
        # PostgreSQL unless told, and the digest must not depend on the database.
        Demand.objects.order_by(
            "enterprise__uscc", F("published_at").asc(nulls_first=True), "purpose", "amount"
        )
        .values_list(
            "enterprise__uscc",
            "kind",
            "amount",
            "term_months",
            "purpose",
            "state",
            "disbursed_amount",
            "disbursed_on",
        )  # fmt: skip
        .iterator(chunk_size=5000),
    )
    yield (
        "dispatches",
        Dispatch.objects.order_by(
            "demand__enterprise__uscc",
            "demand__published_at",
            "demand__purpose",
            "demand__amount",
            "institution__name",
        )  # fmt: skip
        .values_list("demand__enterprise__uscc", "institution__name", "branch__name", "state")
        .iterator(chunk_size=5000),
    )
