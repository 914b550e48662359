"""Building, recognising and rebuilding the demo world.

The demo is built only on an empty database or on one that holds an earlier
demo (recognised by its "demo.build" audit entry): it never mixes generated
rows with real ones. Rebuilding (`reset=True`) empties the tables the
builders write and every table that references them (`demo_models`), never
reference data or the audit log, and builds again in the same transaction,
so a failure leaves the previous state untouched.

Generated rows are written with bulk_create and not audited one by one; the
build appends one "demo.build" audit entry with the seed, scale, build day
(`today`), row counts and a digest of the key fields.

Every date is placed relative to the build day (`today`, by default today in
Asia/Shanghai): open dispatches are due today or in the next working days, a
few are a day or two past due so the scheduler's SLA run visibly reminds and
re-dispatches, closed history runs up to the build day, indicators up to its
month. Same seed, scale and build day => same world and digest, on SQLite and
PostgreSQL alike. The digest is NOT the same across build days: deadlines are
counted on the working-day calendar (holidays, 调休) and enterprises' ages
and list versions follow the calendar year, so a different day makes a
(slightly) different world; the build day is therefore printed and recorded
with the digest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.models import GovernmentAgency, Role, User
from chanrong.core import audit, refdata
from chanrong.core.errors import Conflict, ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.finance.models import Branch, FinancialInstitution
from chanrong.registry.models import DataAuthorisation, Enterprise

from .builders import STEPS
from .builders.accounts import ACCOUNTS
from .builders.base import DemoContext, default_today, refresh_statistics

BUILD_ACTION = "demo.build"
RESET_ACTION = "demo.reset"
DEFAULT_SEED = 2026
MAX_SCALE = 1000.0
# The build day's range: the indicator plan the demo reports against is
# 嘉善's 2021—2023 table, so the demo needs at least those years behind it.
FIRST_TODAY = dt.date(2024, 1, 1)
LAST_TODAY = dt.date(2099, 12, 31)

# Never emptied by a rebuild, whatever references them: reference data and
# the audit log. A rebuild that would have to empty one of them fails.
PRESERVED_MODELS = {
    "core.region",
    "core.industry",
    "core.auditentry",
    "insights.indicatordefinition",  # the standard catalogue, loaded by a migration
}
# Rows that belong to the people who are removed but hold no foreign key.
_ALSO_FLUSHED = {"sessions.session", "accounts.loginthrottle"}


@dataclass
class DemoState:
    kind: str  # "empty" | "demo" | "other"
    seed: int | None = None
    scale: float | None = None
    built_at: str = ""
    digest: str = ""
    today: str = ""


@dataclass
class DemoResult:
    seed: int
    scale: float
    counts: dict[str, int]
    digest: str
    seconds: float
    reset: bool = False
    today: dt.date | None = None
    extra: dict = field(default_factory=dict)


def demo_state() -> DemoState:
    """What the database holds: nothing, a demo, or data that is not a demo."""
    has_rows = any(
        model.objects.exists()
        for model in (User, GovernmentAgency, FinancialInstitution, Enterprise)
    )
    if not has_rows:
        return DemoState("empty")
    entry = AuditEntry.objects.filter(action=BUILD_ACTION).order_by("-seq").first()
    if entry is None:
        return DemoState("other")
    changes = entry.changes or {}
    return DemoState(
        "demo",
        seed=changes.get("seed"),
        scale=float(changes.get("scale") or 0),
        built_at=timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M"),
        digest=changes.get("digest", ""),
        today=changes.get("today", ""),
    )


def check_arguments(seed: int, scale: float, today: dt.date | None = None) -> None:
    errors = {}
    if today is not None and not (FIRST_TODAY <= today <= LAST_TODAY):
        errors["today"] = _("基准日应在 %(first)s 至 %(last)s 之间") % {
            "first": FIRST_TODAY.isoformat(),
            "last": LAST_TODAY.isoformat(),
        }
    if not isinstance(seed, int) or seed < 0:
        errors["seed"] = _("种子应为非负整数")
    if not (0 < scale <= MAX_SCALE):
        errors["scale"] = _("规模应大于 0 且不超过 %(max)s") % {"max": int(MAX_SCALE)}
    if errors:
        raise ValidationFailed(errors, message=_("参数有误"))


def build_demo(
    *,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    today: dt.date | None = None,
    reset: bool = False,
    allow_production: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> DemoResult:
    """Build the demo world as of `today` (default: today in Asia/Shanghai);
    see the module docstring for when it refuses."""
    today = today or default_today()
    check_arguments(seed, scale, today)
    if settings.PRODUCTION and not allow_production:
        raise Conflict(
            _("CHANRONG_ENV=production：拒绝生成演示数据（确需演示站点请加 --allow-production）"),
            code="production",
        )
    started = time.monotonic()
    if not refdata.is_loaded():
        progress(_("加载参考数据（行政区划、国民经济行业）…"))
        refdata.load_all()
    with transaction.atomic():
        state = demo_state()
        if state.kind == "other":
            raise Conflict(
                _(
                    "数据库中已有非演示数据（用户、企业或机构），不能在其上生成演示数据；"
                    "请换一个空数据库（DATABASE_URL 或 CHANRONG_VAR_DIR）"
                ),
                code="not_empty",
            )
        if state.kind == "demo":
            if not reset:
                raise Conflict(
                    _(
                        "数据库中已有演示数据（种子 %(seed)s，规模 %(scale)s）；用 --reset 清空后重建"
                    )
                    % {"seed": state.seed, "scale": f"{state.scale:g}"},
                    code="demo_exists",
                )
            progress(_("清空旧的演示数据…"))
            removed = flush_business_data()
            # Reference data whose rows point at a user (the LPR history's
            # updated_by) went with the flush: its apps' loaders put it back.
            refdata.run_loaders()
            audit.record(
                RESET_ACTION,
                object_type="demo",
                changes={
                    "seed": state.seed,
                    "scale": state.scale,
                    "today": state.today,
                    "rows": removed,
                },
            )
        ctx = DemoContext(
            seed=seed,
            scale=scale,
            password_hash=make_password(settings.CHANRONG_DEMO_PASSWORD),
            today=today,
            progress=progress,
        )
        for step in STEPS:
            progress(_("生成：%(step)s") % {"step": step.NAME})
            step.build(ctx)
        check_invariants(ctx)
        digest = compute_digest()
        audit.record(
            BUILD_ACTION,
            object_type="demo",
            object_repr=f"seed={seed} scale={scale:g} today={today.isoformat()}",
            changes={
                "seed": seed,
                "scale": scale,
                "today": today.isoformat(),
                "counts": ctx.counts,
                "digest": digest,
            },
        )
    refresh_planner_statistics()
    return DemoResult(
        seed,
        scale,
        ctx.counts,
        digest,
        time.monotonic() - started,
        reset=state.kind == "demo",
        today=today,
    )


def refresh_planner_statistics() -> None:
    """ANALYZE every table after the bulk build (PostgreSQL).

    The build writes hundreds of thousands of rows in one transaction; until
    autovacuum's next pass (or never, where it is switched off) the planner
    takes the new tables for empty and picks nested loops that cost seconds
    at scale 10 (the 群体统计 page: 4 s; with statistics 0.1 s). The first
    users, and bench/pages.py, should meet the plans a running site has.
    SQLite plans without statistics well enough; its ANALYZE is left out
    (`builders.base.refresh_statistics`, which steps call mid-build too)."""
    refresh_statistics()


def check_invariants(ctx: DemoContext) -> None:
    """Guards that hold at any scale; cheap next to the build itself."""
    expected = ctx.counts.get("enterprises", 0)
    distinct = Enterprise.objects.values("uscc").distinct().count()
    if distinct != expected or len(ctx.used_usccs) < expected:
        raise RuntimeError(f"USCCs not unique: {distinct} distinct for {expected} enterprises")


def demo_models() -> list:
    """The models a rebuild empties: what the builders write (their MODELS),
    and, transitively, every model that references one of those (tokens,
    notifications, products, demands …), so nothing is left pointing at a
    deleted row. Reference data and catalogues that reference none of them
    (regions, industries, the indicator catalogue) are not touched."""
    labels = {label for step in STEPS for label in getattr(step, "MODELS", ())}
    labels |= _ALSO_FLUSHED
    chosen = {apps.get_model(label) for label in labels}
    all_models = [
        m
        for m in apps.get_models(include_auto_created=True)
        if not m._meta.proxy and m._meta.managed
    ]
    grew = True
    while grew:
        grew = False
        for model in all_models:
            if model in chosen:
                continue
            for model_field in model._meta.concrete_fields:
                target = model_field.related_model if model_field.is_relation else None
                if target is not None and target in chosen:
                    chosen.add(model)
                    grew = True
                    break
    clash = sorted(m._meta.label_lower for m in chosen if m._meta.label_lower in PRESERVED_MODELS)
    if clash:
        raise RuntimeError(f"demo rebuild would empty preserved tables: {', '.join(clash)}")
    return sorted(chosen, key=lambda m: m._meta.label_lower)


def flush_business_data() -> int:
    """Empty demo_models(); returns the number of rows removed.

    Uses the database's own flush (TRUNCATE on PostgreSQL, DELETE on SQLite)
    with sequences reset, so a rebuild gets the same primary keys. Foreign
    keys are checked at commit: a table outside the set that still pointed at
    a flushed row fails the transaction rather than losing its rows.
    """
    existing = set(connection.introspection.table_names())
    models = [m for m in demo_models() if m._meta.db_table in existing]
    removed = sum(model._base_manager.count() for model in models)
    tables = sorted({model._meta.db_table for model in models})
    sql = connection.ops.sql_flush(no_style(), tables, reset_sequences=True, allow_cascade=False)
    if connection.vendor == "postgresql":
        # TRUNCATE refuses tables with deferred FK checks still pending (rows
        # written earlier in this transaction): run those checks now.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        connection.ops.execute_sql_flush(sql)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    else:
        connection.ops.execute_sql_flush(sql)
    return removed


# --- digest ----------------------------------------------------------------


def digest_rows() -> Iterator[tuple[str, Iterable[tuple]]]:
    """Key fields of everything the demo makes, in a stable order.

    No primary keys or timestamps: two builds with the same seed and scale
    must agree even on databases whose sequences differ.
    """
    yield (
        "agencies",
        GovernmentAgency.objects.order_by("name").values_list(
            "name", "level", "function", "region_id"
        ),
    )
    yield (
        "institutions",
        FinancialInstitution.objects.order_by("name").values_list(
            "name", "short_name", "kind", "uscc", "region_id"
        ),
    )
    yield (
        "branches",
        Branch.objects.order_by("institution__name", "name").values_list(
            "institution__name", "name", "level", "region_id", "parent__name", "address", "phone"
        ),
    )
    yield (
        "enterprises",
        Enterprise.objects.order_by("uscc")
        .values_list(
            "uscc", "name", "region_id", "industry_id", "employees", "revenue", "assets", "size"
        )
        .iterator(chunk_size=5000),
    )
    yield (
        "authorisations",
        DataAuthorisation.objects.order_by("enterprise__uscc", "institution__name")
        .values_list("enterprise__uscc", "institution__name", "revoked_at")
        .iterator(chunk_size=5000),
    )
    yield (
        "users",
        User.objects.order_by("username").values_list(
            "username",
            "role",
            "is_staff",
            "is_superuser",
            "enterprise__uscc",
            "institution__name",
            "branch__name",
            "agency__name",
        ),
    )
    # Each domain builder may describe its own key fields.
    for step in STEPS:
        if hasattr(step, "digest_rows"):
            yield from step.digest_rows()


def compute_digest() -> str:
    """SHA-256 over digest_rows(): equal digests mean the same demo world."""
    hasher = hashlib.sha256()
    for label, rows in digest_rows():
        hasher.update(f"[{label}]\n".encode())
        for row in rows:
            hasher.update(("\x1f".join("" if v is None else str(v) for v in row) + "\n").encode())
    return hasher.hexdigest()


# --- the accounts, for people --------------------------------------------


@dataclass(frozen=True)
class AccountLine:
    username: str
    role: str
    organisation: str


def account_otp_secrets() -> list[tuple[str, str]]:
    """(username, base32 secret) of the demo accounts enrolled with a demo
    TOTP device, in account order: printed with the password."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from chanrong.accounts.services import otp

    devices = {
        d.user.username: d
        for d in TOTPDevice.objects.filter(
            name=otp.DEMO_DEVICE_NAME,
            confirmed=True,
            user__username__in=[a.username for a in ACCOUNTS],
        ).select_related("user")
    }
    return [
        (a.username, otp.secret_base32(devices[a.username]))
        for a in ACCOUNTS
        if a.username in devices
    ]


def account_lines() -> list[AccountLine]:
    """The demo accounts as they are in the database (missing ones left out)."""
    users = {
        u.username: u
        for u in User.objects.filter(username__in=[a.username for a in ACCOUNTS]).select_related(
            "enterprise", "institution", "branch", "agency"
        )
    }
    lines = []
    for account in ACCOUNTS:
        user = users.get(account.username)
        if user is None:
            continue
        if user.enterprise_id:
            org = user.enterprise.name
        elif user.institution_id:
            org = user.institution.name + (f" / {user.branch.name}" if user.branch_id else "")
        elif user.agency_id:
            org = user.agency.name
        else:
            org = _("（平台）")
        lines.append(AccountLine(user.username, str(Role(user.role).label), org))
    return lines
