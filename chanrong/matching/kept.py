"""The 派单工作台's two lists, ranked ahead per institution (issue 20).

The workbench shows an institution's best open demands and its outreach
list. Ranked on every view, at demo scale 10 that is the facts of every open
demand dispatched to the bank (about a thousand) and of every quiet
enterprise on a white list in its regions, scored against its products:
about two thirds of the page's 300-400 ms. The lists change far more slowly
than they are viewed, so `refresh` ranks both ahead for every institution
with an active user (the hourly job, the demo's last steps, and a product
change) and keeps the best KEEP of each in one `InstitutionRanking` row.

A view reads the row and corrects it for what happened since, so that what
it shows is what ranking now would show:

- demands: the open demands dispatched to the institution, or edited, since
  the ranking started are ranked now and merged in by score (then demand
  id, the engine's order); closed ones drop out where the view keeps only
  open demands;
- outreach: enterprises that have published a demand since drop out (the
  list is of enterprises without a recent demand); enterprises that left
  their list drop out where the view names their lists in force.

What it does not see until the next refresh is a change to an enterprise's
own facts (a tax grade, a qualification, a list joined). So a row is used
only while it is fresher than SHOWN_FOR, as of today, ranked with the
product table, policy weights and approval model in force now (`stamp`),
and while it holds enough: a list that ran short of the page's length and
was cut at KEEP is ranked live instead. Filtered outreach (`?outreach=`
a policy group) is always ranked live.
"""

from __future__ import annotations

import hashlib
import time
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from chanrong.core.scope import Scope, ScopeKind
from chanrong.demands.models import Demand, Dispatch

from . import adapter, model, services
from .models import InstitutionRanking
from .services import DemandForInstitution, OutreachCandidate

#: Candidates kept per list: the API's longest list (access.MAX_LIST_LIMIT).
KEEP = 200
#: A row older than this is not used (the hourly job has stopped, or is late).
SHOWN_FOR = timedelta(hours=2)


def current_stamp() -> str:
    """What a ranking depends on besides the demands' and enterprises' own
    facts: the product table's and policy weights' versions and the saved
    approval model's file, as one digest."""
    path = model.default_path()
    try:
        saved = path.stat().st_mtime_ns
    except OSError:
        saved = None
    text = repr((adapter.table_versions(), str(path), saved))
    return hashlib.sha256(text.encode()).hexdigest()


def refresh(institution_ids: list[int] | None = None, *, today: date | None = None) -> int:
    """Rank both lists ahead for these institutions (default: every one with
    an active user) and keep them; rows of institutions no longer ranked are
    dropped. Returns the number of institutions ranked."""
    from chanrong.accounts.scopes import institution_ids as active_institutions

    day = today or timezone.localdate()
    ids = sorted(set(institution_ids if institution_ids is not None else active_institutions()))
    for institution_id in ids:
        _refresh_one(institution_id, day)
    if institution_ids is None:
        InstitutionRanking.objects.exclude(institution_id__in=ids).delete()
    return len(ids)


def _refresh_one(institution_id: int, day: date) -> None:
    # Taken before ranking: a demand dispatched or edited while it runs is
    # ranked again by the view, and a product changed meanwhile makes the
    # stamp stale.
    started, clock_started = timezone.now(), time.perf_counter()
    stamp = current_stamp()
    among = Demand.objects.for_scope(Scope(ScopeKind.INSTITUTION, institution_id=institution_id))
    demands = services.rank_open_demands(institution_id, limit=KEEP + 1, today=day, among=among)
    outreach = services.outreach(institution_id, limit=KEEP + 1, today=day)
    row = InstitutionRanking(
        institution_id=institution_id,
        as_of=day,
        computed_at=started,
        seconds=time.perf_counter() - clock_started,
        stamp=stamp,
        demands=[[c.demand_id, c.score, c.best_product_id, c.reasons] for c in demands[:KEEP]],
        demands_complete=len(demands) <= KEEP,
        outreach=[
            [c.enterprise_id, c.score, c.best_product_id, c.reasons, c.lists]
            for c in outreach[:KEEP]
        ],
        outreach_complete=len(outreach) <= KEEP,
    )
    fields = [f.name for f in InstitutionRanking._meta.concrete_fields if not f.primary_key]
    with transaction.atomic():
        InstitutionRanking.objects.bulk_create(
            [row],
            update_conflicts=True,
            unique_fields=["institution"],
            update_fields=[f for f in fields if f != "institution"],
        )


def _usable(institution_id: int, day: date) -> InstitutionRanking | None:
    row = InstitutionRanking.objects.filter(institution_id=institution_id).first()
    if (
        row is None
        or row.as_of != day
        or row.computed_at < timezone.now() - SHOWN_FOR
        or row.stamp != current_stamp()
    ):
        return None
    return row


def demand_candidates(
    institution_id: int, visible, *, today: date | None = None
) -> tuple[list[DemandForInstitution], bool] | None:
    """The institution's kept ranked demands corrected to now, best first,
    and whether they are every candidate there is; None when no usable row
    is kept (rank live). `visible` is the demands the viewer may see; closed
    ones are left for the caller to drop."""
    day = today or timezone.localdate()
    row = _usable(institution_id, day)
    if row is None:
        return None
    since = row.computed_at
    changed = set(
        Dispatch.objects.filter(
            institution_id=institution_id, dispatched_at__gte=since
        ).values_list("demand_id", flat=True)
    ) | set(visible.filter(updated_at__gte=since).values_list("pk", flat=True))
    fresh = []
    if changed:
        fresh = services.rank_open_demands(
            institution_id,
            limit=len(changed),
            today=day,
            among=visible.filter(pk__in=sorted(changed)),
        )
    kept = [
        DemandForInstitution(int(pk), float(score), int(product), list(reasons))
        for pk, score, product, reasons in row.demands
        if pk not in changed
    ]
    merged = sorted(kept + fresh, key=lambda c: (-c.score, c.demand_id))
    return merged, row.demands_complete


def outreach_candidates(
    institution_id: int, *, today: date | None = None
) -> tuple[list[OutreachCandidate], bool] | None:
    """The institution's kept outreach list without the enterprises that
    have published a demand since, best first, and whether it is every
    candidate there is; None when no usable row is kept (rank live)."""
    day = today or timezone.localdate()
    row = _usable(institution_id, day)
    if row is None:
        return None
    candidates = [
        OutreachCandidate(int(pk), float(score), int(product), list(reasons), list(lists))
        for pk, score, product, reasons, lists in row.outreach
    ]
    recent = set(
        Demand.objects.filter(
            published_at__gte=services.quiet_since(day),
            enterprise_id__in=[c.enterprise_id for c in candidates],
        ).values_list("enterprise_id", flat=True)
    )
    return [c for c in candidates if c.enterprise_id not in recent], row.outreach_complete
