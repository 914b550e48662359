"""供应链金融 in the demo county: two industry chains of 嘉善 with their
lead enterprises (链主, also listed core enterprises), tiered suppliers and
dealers, receivables in every state, bank financing through to repayment or
default, and digital payables vouchers split two levels down the chain.

- 嘉善县经信局 (gov_jiashan) puts the two 链主 on its 应收账款核心企业名单
  through the registry's list services (created, drafted, submitted,
  published), so the list is in force as `is_listed_core` reads it; its
  effective date is then set back before the story begins (publishing
  refuses a retroactive date, and the demo's history is retroactive by
  nature).
- The agency keeps both chains (新能源汽车零部件, 精密机械): tier 1–3
  suppliers and dealers, 一链一策 measures dated before the build day.
- Every receivable goes through the services with `today=` its own story
  date: registered, then confirmed (in full or in part), disputed or
  withdrawn; confirmed ones financed by a bank the supplier authorised
  (pledge or factoring), repaid at maturity, or left unpaid and marked
  overdue by `mark_overdue` on the build day. Two 政采 contracts name
  嘉善县发展和改革局 as purchasing body; its official confirms one.
- Each 链主 issues a voucher to a tier-1 supplier; the supplier splits it to
  tier-2 suppliers, one of which passes a part on to tier 3, and a bank
  discounts part of what the tier-1 supplier kept. A third, older voucher
  has matured and been paid.
- The demo accounts see it: ent_user's enterprise (嘉善精工机械) is a tier-1
  supplier of both chains with confirmed receivables, one financed by
  嘉善农商行 (bank_staff) and one still offered to it, and holds a voucher;
  ent2_user's enterprise is a tier-2 supplier holding a part of one.

Deterministic by seed: every choice comes from this builder's own stream,
every date from the build day; the services' clock-stamped times
(created_at, confirmed_at) are set back to the story's dates afterwards.
Actors the services need (the 链主's and suppliers' finance staff, a
purchasing official, a third bank's staff) are created here as `sc_*` users.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo

from chanrong.accounts.models import Role, User
from chanrong.registry.models import DataAuthorisation, Enterprise, ListVersion
from chanrong.registry.services import list_entries, list_publishing, lists, profile
from chanrong.supplychain import services
from chanrong.supplychain.models import Chain, Financing, Receivable, Voucher

from . import supplychain_documents
from .base import DemoContext

NAME = "supplychain"
# What this builder writes; a rebuild empties these and whatever references them
# (members, measures, invoices).
MODELS = (
    "supplychain.chain",
    "supplychain.receivable",
    "supplychain.financing",
    "supplychain.voucher",
    "supplychain.receivableattachment",
    "supplychain.discountapplication",
)

TZ = ZoneInfo("Asia/Shanghai")
JIASHAN = "330421"
WAN = Decimal(10000)
FEN = Decimal("0.01")
BANK_USERS = {"jsrcb": "bank_staff", "icbc": "bank2_staff"}
BANKS = ("jsrcb", "icbc", "jxb")
PURCHASER = "js_development"

CHAINS = (
    {
        "name": "新能源汽车零部件",
        "industries": ("C36", "C38"),
        "description": "以整车及动力电池企业为链主，覆盖电机电控、线束、精密结构件等配套企业。",
        "measures": (
            (400, "建立链主企业应收账款确权机制，确权后 3 个工作日内在平台登记。"),
            (200, "对链上中小供应商的应收账款融资给予贴息支持，融资比例不低于 80%。"),
            (60, "推广数字债权凭证，支持链上企业拆分流转、在线贴现。"),
        ),
    },
    {
        "name": "精密机械",
        "industries": ("C34", "C35"),
        "description": "以精密装备龙头企业为链主，覆盖铸锻件、轴承、数控系统等配套企业。",
        "measures": (
            (300, "链主企业与合作银行签订供应链金融合作协议，对一级供应商全覆盖。"),
            (90, "政府采购合同可凭合同向银行申请政采贷，回款账户由财政直接支付。"),
        ),
    },
)
# The story of every chain's receivables: each state at least once.
STATES = (
    "registered",
    "disputed",
    "withdrawn",
    "confirmed",
    "partly_confirmed",
    "financed",
    "repaid",
    "overdue",
)
DISPUTES = ("货物质量存在问题，待双方核对后再确权", "发票金额与入库数量不一致", "合同尚未履行完毕")
TRADE_NOTES = ("配套零部件", "原材料", "加工费", "模具")


@dataclass
class World:
    ctx: DemoContext
    rng: random.Random
    today: date
    gov: User
    bank_users: dict[str, User] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)  # enterprise id -> its actor
    authorised: dict[int, list[str]] = field(default_factory=dict)
    serial: int = 0
    stamps: list[tuple[type, int, dict]] = field(default_factory=list)
    purchaser: User | None = None

    def next(self) -> int:
        self.serial += 1
        return self.serial

    def moment(self, day: date) -> datetime:
        return datetime.combine(day, time(9 + self.rng.randint(0, 7), self.rng.randint(0, 59)), TZ)


def build(ctx: DemoContext) -> None:
    world = World(
        ctx=ctx,
        rng=ctx.rng(NAME),
        today=ctx.today,
        gov=User.objects.get(username="gov_jiashan"),
    )
    cores, members = _pick_enterprises(world)
    _actors(world, cores, members)
    _core_list(world, cores)
    chains = _chains(world, cores, members)
    _authorise(world, members)
    for chain, core in zip(chains, cores, strict=True):
        _receivables(world, chain, core, members[chain.pk])
    _gov_procurement(world, members[chains[1].pk])
    for chain, core in zip(chains, cores, strict=True):
        _vouchers(world, core, members[chain.pk])
    _paid_voucher(world, cores[0], members[chains[0].pk])
    ctx.counts["supplychain_overdue_marked"] = services.mark_overdue(today=world.today)
    supplychain_documents.build(world)
    _restamp(world)
    ctx.counts["supplychain_chains"] = Chain.objects.count()
    ctx.counts["supplychain_receivables"] = Receivable.objects.count()
    ctx.counts["supplychain_financings"] = Financing.objects.count()
    ctx.counts["supplychain_vouchers"] = Voucher.objects.count()


# --- who --------------------------------------------------------------------------------


def _pick_enterprises(world: World):
    """Two 链主 (the largest 嘉善 manufacturers of each chain's industries)
    and each chain's members: ent_user's enterprise as tier 1 of both,
    ent2_user's as tier 2 of the first, the rest drawn from the county."""
    demo = world.ctx.refs["demo_enterprises"]
    ent, ent2 = demo[0], demo[1]
    county = list(
        Enterprise.objects.filter(region_id=JIASHAN)
        .exclude(pk__in=[ent.pk, ent2.pk])
        .order_by("uscc")
    )
    cores: list[Enterprise] = []
    for spec in CHAINS:
        fits = [
            e
            for e in county
            if e.industry_id and e.industry_id.startswith(spec["industries"]) and e not in cores
        ] or [e for e in county if e not in cores]
        cores.append(max(fits, key=lambda e: (e.revenue or 0, e.uscc)))
    pool = [e for e in county if e not in cores]
    world.rng.shuffle(pool)
    per_chain = min(10, max(4, len(pool) // 2))
    members: dict[int, list[tuple[Enterprise, str, int]]] = {}
    for index in range(len(CHAINS)):
        drawn = pool[index * per_chain : (index + 1) * per_chain]
        rows = [(ent, "supplier", 1)]
        if index == 0:
            rows.append((ent2, "supplier", 2))
        shape = [("supplier", 1), ("supplier", 1), ("supplier", 2), ("supplier", 2)]
        shape += [("supplier", 3), ("dealer", 1), ("supplier", 2), ("supplier", 3)]
        shape += [("dealer", 2), ("supplier", 1)]
        rows += [(e, *shape[i % len(shape)]) for i, e in enumerate(drawn)]
        members[index] = rows
    return cores, members


def _actors(world: World, cores, members) -> None:
    """A finance user for each enterprise that acts here and has no demo
    account, a purchasing official, and staff for the third bank."""
    institutions = world.ctx.refs["institutions"]
    branches = world.ctx.refs["county_branches"]
    existing = {
        u.enterprise_id: u
        for u in User.objects.filter(enterprise__isnull=False, is_active=True).order_by("pk")
    }
    enterprises: list[Enterprise] = list(cores)
    for rows in members.values():
        enterprises += [e for e, _role, _tier in rows if e not in enterprises]
    created: list[User] = []
    for index, enterprise in enumerate(enterprises):
        if enterprise.pk in existing:
            world.users[enterprise.pk] = existing[enterprise.pk]
            continue
        user = User(
            username=f"sc_ent_{index:02d}",
            display_name=f"{enterprise.name[:12]}财务",
            role=Role.ENTERPRISE_USER,
            enterprise=enterprise,
            password=world.ctx.password_hash,
            is_active=True,
        )
        created.append(user)
        world.users[enterprise.pk] = user
    purchaser = User(
        username="sc_js_development",
        display_name="嘉善县发展和改革局采购经办人",
        role=Role.GOV_STAFF,
        agency=world.ctx.refs["agencies"][PURCHASER],
        password=world.ctx.password_hash,
        is_active=True,
    )
    created.append(purchaser)
    for key in BANKS:
        if key in BANK_USERS:
            world.bank_users[key] = User.objects.get(username=BANK_USERS[key])
            continue
        user = User(
            username=f"sc_{key}",
            display_name=f"{institutions[key].short_name}供应链金融部",
            role=Role.INSTITUTION_STAFF,
            institution=institutions[key],
            branch=(branches.get(key) or [None])[0],
            password=world.ctx.password_hash,
            is_active=True,
        )
        created.append(user)
        world.bank_users[key] = user
    User.objects.bulk_create(created)
    world.ctx.counts["users"] = world.ctx.counts.get("users", 0) + len(created)
    world.purchaser = purchaser


def _core_list(world: World, cores) -> None:
    """嘉善县应收账款核心企业名单, through the registry's list services; in
    force from well before the first receivable."""
    gov = world.gov
    lst = lists.create_list(
        gov,
        {
            "list_type": "receivables_core",
            "name": "嘉善县应收账款核心企业名单",
            "region_code": JIASHAN,
            "description": "产业链链主企业，可在平台确权并开立数字债权凭证",
        },
    )
    version = lists.start_version(gov, lst, note="首批")
    for core in cores:
        list_entries.add_list_entry(gov, version, enterprise=core, reason="产业链链主企业")
    list_publishing.submit_version(gov, version)
    list_publishing.publish_version(gov, version)
    since = world.today - timedelta(days=540)
    ListVersion.objects.filter(pk=version.pk).update(
        effective_from=since,
        submitted_at=world.moment(since - timedelta(days=10)),
        published_at=world.moment(since - timedelta(days=3)),
    )


def _chains(world: World, cores, members) -> list[Chain]:
    chains = []
    out: dict[int, list] = {}
    for index, (spec, core) in enumerate(zip(CHAINS, cores, strict=True)):
        chain = services.create_chain(
            world.gov,
            {
                "name": spec["name"],
                "region": JIASHAN,
                "lead": core.pk,
                "description": spec["description"],
            },
        )
        for enterprise, role, tier in members[index]:
            services.add_member(
                world.gov, chain, {"enterprise": enterprise.pk, "role": role, "tier": tier}
            )
        for days, text in spec["measures"]:
            services.add_measure(
                world.gov,
                chain,
                {"issued_on": world.today - timedelta(days=days), "text": text},
                today=world.today,
            )
        chains.append(chain)
        out[chain.pk] = members[index]
    members.clear()
    members.update(out)
    return chains


def _authorise(world: World, members) -> None:
    """Each supplier authorises one or two of the chain's banks (ent_user's
    enterprise has authorised 嘉善农商行 already; ent2_user's authorises none)."""
    demo = world.ctx.refs["demo_enterprises"]
    institutions = world.ctx.refs["institutions"]
    seen: set[int] = set()
    for rows in members.values():
        first = True  # the chain's first drawn supplier banks with two (a shared receivable)
        for enterprise, _role, _tier in rows:
            if enterprise.pk in seen:
                continue
            seen.add(enterprise.pk)
            if enterprise.pk in (demo[0].pk, demo[1].pk):
                # As the enterprises builder left them: 嘉善农商行 only, and none.
                world.authorised[enterprise.pk] = ["jsrcb"] if enterprise.pk == demo[0].pk else []
                continue
            keys = world.rng.sample(BANKS, 2 if first else world.rng.choice((1, 2)))
            first = False
            keys = sorted(keys, key=BANKS.index)
            for key in keys:
                profile.authorise_institution(
                    world.users[enterprise.pk], enterprise, institutions[key]
                )
            world.authorised[enterprise.pk] = keys
    world.ctx.counts["supplychain_authorisations"] = DataAuthorisation.objects.filter(
        enterprise_id__in=seen
    ).count()


# --- receivables and financing ----------------------------------------------------------


def _invoices(world: World, day: date, count: int) -> list:
    out: list = []
    for _ in range(count):
        n = world.next()
        if world.rng.random() < 0.5:
            out.append({"code": f"3300{day.year % 100:02d}1130", "number": f"{n:08d}"})
        else:
            out.append(f"{day.year % 100:02d}33{n:016d}")
    return out


def _amount(world: World, low: int = 20, high: int = 400) -> Decimal:
    return Decimal(world.rng.randint(low, high)) * WAN


def _register(world: World, supplier: Enterprise, debtor: Enterprise, reg: date, due: date):
    data = {
        "debtor_uscc": debtor.uscc,
        "contract_no": f"GY-{reg.year}-{world.next():04d}",
        "amount": _amount(world),
        "issued_on": reg - timedelta(days=world.rng.randint(0, 20)),
        "due_on": due,
        "invoices": _invoices(world, reg, world.rng.randint(1, 3)),
    }
    receivable = services.register_receivable(world.users[supplier.pk], data, today=reg)
    world.stamps.append((Receivable, receivable.pk, {"created_at": world.moment(reg)}))
    return receivable


def _confirm(world: World, receivable, core, day: date, part: bool = False):
    amount = None
    if part:
        share = Decimal(world.rng.randint(60, 95)) / 100
        amount = (receivable.amount * share).quantize(WAN, rounding=ROUND_DOWN)
    done = services.confirm(world.users[core.pk], receivable, amount, today=day)
    world.stamps.append((Receivable, done.pk, {"confirmed_at": world.moment(day)}))
    return done


def _finance(
    world: World, receivable, supplier, day: date, *, account: str = "", backing=None, key=None
):
    keys = world.authorised.get(supplier.pk) or []
    if not keys:
        return None
    key = key or world.rng.choice(keys)
    ratio = Decimal(world.rng.choice((70, 80, 90)))
    base = backing if backing is not None else receivable.available
    data = {
        "mode": world.rng.choice(("pledge", "factoring_recourse", "factoring_non_recourse")),
        "advance_ratio": ratio,
        "amount": (base * ratio / 100).quantize(FEN, rounding=ROUND_DOWN),
        "backing": backing,
        "registration_no": f"0{day:%Y%m%d}{world.next():011d}",
        "contract_no": f"SCF-{key.upper()}-{day.year}-{world.next():04d}",
        "repayment_account": account,
    }
    financing = services.finance(world.bank_users[key], receivable, data, today=day)
    world.stamps.append((Financing, financing.pk, {"created_at": world.moment(day)}))
    return financing


def _receivables(world: World, chain: Chain, core: Enterprise, rows) -> None:
    rng, today = world.rng, world.today
    suppliers = [e for e, role, _tier in rows if role == "supplier"]
    demo = world.ctx.refs["demo_enterprises"]
    # ent_user's: one financed by 嘉善农商行, one confirmed and still on offer to it;
    # one shared by two banks.
    shared = next(e for e in suppliers if e not in demo[:2])
    stories = [(demo[0], "financed"), (demo[0], "confirmed"), (shared, "shared")]
    stories += [(suppliers[i % len(suppliers)], state) for i, state in enumerate(STATES)]
    extra = max(2, round(24 * world.ctx.scale))
    stories += [(rng.choice(suppliers), rng.choice(STATES)) for _ in range(extra)]
    for supplier, state in stories:
        if state in ("registered", "disputed", "withdrawn"):
            reg = today - timedelta(days=rng.randint(1, 30))
            due = today + timedelta(days=rng.randint(60, 150))
        elif state == "repaid":
            reg = today - timedelta(days=rng.randint(200, 320))
            due = reg + timedelta(days=rng.randint(90, 150))
        elif state == "overdue":
            reg = today - timedelta(days=rng.randint(120, 200))
            due = today - timedelta(days=rng.randint(5, 40))
        else:
            reg = today - timedelta(days=rng.randint(8, 60))
            due = today + timedelta(days=rng.randint(30, 150))
        receivable = _register(world, supplier, core, reg, due)
        if state == "registered":
            continue
        decided = min(reg + timedelta(days=rng.randint(1, 5)), today)
        if state in ("disputed", "withdrawn"):
            if state == "disputed" or rng.random() < 0.5:
                receivable = services.dispute(
                    world.users[core.pk], receivable, rng.choice(DISPUTES)
                )
            if state == "withdrawn":
                services.withdraw(world.users[supplier.pk], receivable)
            continue
        receivable = _confirm(world, receivable, core, decided, part=state == "partly_confirmed")
        if state in ("confirmed", "partly_confirmed"):
            continue
        financed_on = min(decided + timedelta(days=rng.randint(0, 7)), due)
        if state == "shared":
            # Two banks share it: the first takes a part, the second the rest.
            first, second = world.authorised[supplier.pk][:2]
            half = (receivable.available / 2).quantize(WAN, rounding=ROUND_DOWN)
            _finance(world, receivable, supplier, financed_on, backing=half, key=first)
            receivable.refresh_from_db()
            _finance(world, receivable, supplier, financed_on, key=second)
            continue
        financing = _finance(world, receivable, supplier, financed_on)
        if financing is not None and state == "repaid":
            repaid_on = min(due + timedelta(days=rng.randint(0, 3)), today)
            services.repay(
                financing_bank(world, financing), financing, repaid_on=repaid_on, today=repaid_on
            )


def financing_bank(world: World, financing: Financing) -> User:
    return next(u for u in world.bank_users.values() if u.institution_id == financing.bank_id)


def _gov_procurement(world: World, rows) -> None:
    """Two 政采 contracts of the county's 发改局 with suppliers of the second
    chain: one confirmed by its official and financed (政采贷, paid into the
    recorded 回款账户), one awaiting confirmation."""
    rng, today = world.rng, world.today
    agency = world.ctx.refs["agencies"][PURCHASER]
    suppliers = [e for e, role, _tier in rows if role == "supplier" and world.authorised.get(e.pk)]
    for index, supplier in enumerate(suppliers[:2]):
        reg = today - timedelta(days=rng.randint(10, 40))
        amount = _amount(world, 50, 300)
        due = today + timedelta(days=rng.randint(90, 180))
        first = (amount * Decimal("0.3")).quantize(FEN)
        data = {
            "kind": "gov_procurement",
            "purchaser_agency": agency.pk,
            "contract_no": f"JSCG-{reg.year}-{world.next():04d}",
            "amount": amount,
            "issued_on": reg - timedelta(days=5),
            "due_on": due,
            "payment_schedule": [
                {"due_on": reg + timedelta(days=(due - reg).days // 2), "amount": first},
                {"due_on": due, "amount": amount - first},
            ],
        }
        receivable = services.register_receivable(world.users[supplier.pk], data, today=reg)
        world.stamps.append((Receivable, receivable.pk, {"created_at": world.moment(reg)}))
        if index == 0:
            day = reg + timedelta(days=3)
            receivable = services.confirm(world.purchaser, receivable, today=day)
            world.stamps.append((Receivable, receivable.pk, {"confirmed_at": world.moment(day)}))
            _finance(
                world,
                receivable,
                supplier,
                day + timedelta(days=2),
                account=f"嘉善支行 1204 0621 {world.next():08d}",
            )


# --- vouchers ---------------------------------------------------------------------------


def _payable(world: World, core, supplier, reg: date, due: date):
    receivable = _register(world, supplier, core, reg, due)
    return _confirm(world, receivable, core, reg + timedelta(days=1))


def _vouchers(world: World, core: Enterprise, rows) -> None:
    """The 链主 issues to a tier-1 supplier (ent_user's enterprise); it
    splits to two tier-2 suppliers, the first passes a part to tier 3, and a
    bank discounts part of what the tier-1 supplier kept."""
    rng, today = world.rng, world.today
    ent = world.ctx.refs["demo_enterprises"][0]
    tier2 = [e for e, role, tier in rows if role == "supplier" and tier == 2]
    tier3 = [e for e, role, tier in rows if role == "supplier" and tier == 3]
    if len(tier2) < 2 or not tier3:
        return
    issued_on = today - timedelta(days=rng.randint(20, 40))
    payable = _payable(
        world,
        core,
        ent,
        issued_on - timedelta(days=3),
        today + timedelta(days=rng.randint(60, 120)),
    )
    face = (payable.confirmed_amount * Decimal("0.8")).quantize(WAN, rounding=ROUND_DOWN)
    root = services.issue_voucher(world.users[core.pk], payable, {"amount": face}, today=issued_on)
    world.stamps.append((Voucher, root.pk, {"created_at": world.moment(issued_on)}))
    day = issued_on + timedelta(days=2)
    shares = [(face * Decimal(p) / 100).quantize(WAN, rounding=ROUND_DOWN) for p in (30, 20)]
    children = services.split_voucher(
        world.users[ent.pk],
        root,
        [{"holder": t.pk, "amount": s} for t, s in zip(tier2[:2], shares, strict=True)],
        today=day,
    )
    first, kept = children[0], children[-1]
    day += timedelta(days=3)
    services.transfer_voucher(
        world.users[first.holder_id],
        first,
        tier3[0].pk,
        (first.amount / 2).quantize(WAN, rounding=ROUND_DOWN),
        today=day,
    )
    day += timedelta(days=2)
    bank_key = world.authorised[ent.pk][0]
    services.discount_voucher(
        world.bank_users[bank_key],
        kept,
        {
            "amount": (kept.amount / 2).quantize(WAN, rounding=ROUND_DOWN),
            "discount_rate": Decimal("3.15"),
            "contract_no": f"TX-{day.year}-{world.next():04d}",
        },
        today=day,
    )


def _paid_voucher(world: World, core: Enterprise, rows) -> None:
    """An older voucher, split and partly discounted, that matured and was paid."""
    today = world.today
    suppliers = [
        e for e, role, tier in rows if role == "supplier" and tier == 1 and world.authorised[e.pk]
    ]
    holder = suppliers[-1]
    due = today - timedelta(days=20)
    issued_on = due - timedelta(days=150)
    payable = _payable(world, core, holder, issued_on - timedelta(days=5), due)
    root = services.issue_voucher(world.users[core.pk], payable, {}, today=issued_on)
    second = [e for e, role, tier in rows if role == "supplier" and tier == 2][0]
    part = (root.amount / 4).quantize(WAN, rounding=ROUND_DOWN)
    _moved, kept = services.split_voucher(
        world.users[holder.pk],
        root,
        [{"holder": second.pk, "amount": part}],
        today=issued_on + timedelta(days=5),
    )
    services.discount_voucher(
        world.bank_users[world.authorised[holder.pk][0]],
        kept,
        {"discount_rate": Decimal("3.3"), "contract_no": f"TX-{due.year}-{world.next():04d}"},
        today=issued_on + timedelta(days=10),
    )
    services.pay_vouchers(world.users[core.pk], root, today=due)


# --- dates back to the story --------------------------------------------------------------


def _restamp(world: World) -> None:
    """The services stamp the clock's time; the story's dates are earlier."""
    for model, pk, values in world.stamps:
        model.objects.filter(pk=pk).update(**values)
    for voucher in Voucher.objects.order_by("pk"):
        Voucher.objects.filter(pk=voucher.pk).update(created_at=world.moment(voucher.issued_on))


def digest_rows():
    yield (
        "supplychain_chains",
        Chain.objects.order_by("region_id", "name").values_list("name", "region_id", "lead__uscc"),
    )
    yield (
        "supplychain_receivables",
        Receivable.objects.order_by("contract_no").values_list(
            "contract_no",
            "kind",
            "creditor__uscc",
            "debtor_uscc",
            "purchaser_agency__name",
            "amount",
            "issued_on",
            "due_on",
            "state",
            "confirmed_amount",
            "financed",
            "vouchered",
        ),
    )
    yield (
        "supplychain_financings",
        Financing.objects.order_by("registration_no").values_list(
            "registration_no",
            "receivable__contract_no",
            "bank__name",
            "mode",
            "backing",
            "amount",
            "financed_on",
            "matures_on",
            "state",
            "repaid_on",
        ),
    )
    yield (
        "supplychain_vouchers",
        # Not the number: it carries primary keys, which differ between databases.
        Voucher.objects.order_by(
            "receivable__contract_no", "depth", "holder__uscc", "amount", "state"
        ).values_list(
            "receivable__contract_no",
            "depth",
            "parent__holder__uscc",
            "holder__uscc",
            "amount",
            "state",
            "due_on",
            "bank__name",
            "discount_proceeds",
        ),
    )
    yield from supplychain_documents.digest_rows()
