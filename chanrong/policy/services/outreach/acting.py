"""Acting on what was found: notifying, building 免申即享 applications, the daily job.

See the package docstring."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.models import User
from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, NotAllowed
from chanrong.demands.models import Demand

from ...models import (
    Application,
    ApplicationState,
    Loan,
    Programme,
)
from ...outreach_models import OutreachNotice
from ..applications import Claim, compute
from ..loans import loan_from_demand

#: The programme kinds that pay on a loan and so can look for loans.
from .finding import (
    OUTREACH_KINDS,
    CandidateLoan,
    Found,
    Outreach,
    Window,
    _open,
    _slices,
    can_act,
    find,
)

# --- notifying ------------------------------------------------------------------------


def programme_link(programme: Programme) -> str:
    """Where an enterprise reads the programme and applies: the public
    programme page once the public pages provide it, else the policy home."""
    for name, args in (("policy:programme", [programme.pk]), ("policy:public_programmes", [])):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return ""


def _users_by_enterprise(enterprise_ids: Iterable[int]) -> dict[int, list]:
    users: dict[int, list] = defaultdict(list)
    for part in _slices(list(enterprise_ids)):
        for user in User.objects.filter(enterprise_id__in=part, is_active=True):
            users[user.enterprise_id].append(user)
    return users


def notify_found(
    actor, programme: Programme, outreach: Outreach | None = None, *, today: date | None = None
) -> int:
    """Tell the found enterprises' users about the programme, once per
    programme and enterprise (enterprises without users are left for a later
    run, when they may have some). Returns how many enterprises were told.
    `actor` None is the scheduler or the command line."""
    day = today or timezone.localdate()
    if actor is not None and not can_act(actor, programme):
        raise NotAllowed(_("只有政策的主管部门管理员可以通知企业"))
    _open(programme, day)
    outreach = outreach or find(programme, today=day)
    told = set(
        OutreachNotice.objects.filter(programme=programme).values_list("enterprise_id", flat=True)
    )
    pending = [r for r in outreach.rows if r.enterprise_id not in told]
    users = _users_by_enterprise(r.enterprise_id for r in pending)
    link = programme_link(programme)
    count = 0
    for found in pending:
        recipients = users.get(found.enterprise_id)
        if not recipients:
            continue
        if _tell(actor, programme, found, recipients, link, built=0):
            count += 1
    return count


def _tell(actor, programme, found: Found, recipients, link: str, *, built: int) -> bool:
    """One enterprise's message and its record, together or not at all."""
    if built:
        message = _("「%(p)s」已根据平台放款数据为您生成 %(n)s 笔免申即享申请，请核对后确认") % {
            "p": programme.name,
            "n": built,
        }
    else:
        message = _("您的 %(n)s 笔贷款可能符合「%(p)s」，尚未申请，请前往查看并申报") % {
            "p": programme.name,
            "n": len(found.loans),
        }
    try:
        with transaction.atomic():
            OutreachNotice.objects.create(
                programme=programme,
                enterprise_id=found.enterprise_id,
                recipients=len(recipients),
                built=built,
                actor=actor if getattr(actor, "pk", None) else None,
            )
            notify.send(recipients, "policy.outreach", message, link)
    except IntegrityError:
        return False  # told already, by a run at the same moment
    return True


# --- 免申即享: building the application -------------------------------------------------


def _already_built(programme: Programme, year: int) -> set[int]:
    """Loans with an application the platform built this year, in any state:
    an enterprise that withdrew one is not offered it again every morning."""
    return set(
        Application.objects.filter(
            programme=programme, year=year, auto_built=True, loan__isnull=False
        ).values_list("loan_id", flat=True)
    )


def build(
    actor, programme: Programme, outreach: Outreach | None = None, *, today: date | None = None
) -> list[Application]:
    """免申即享: for every loan found, an application in state "proposed",
    built from the platform's data (the claim is the programme-year so far,
    the amount `compute` gives with the paid interest or fee still to be
    confirmed by the bank), which the enterprise confirms (`confirm`). The
    enterprise's users are told once (the outreach notice). Returns the
    applications built; a loan someone applied for in the meantime is skipped."""
    day = today or timezone.localdate()
    if actor is not None and not can_act(actor, programme):
        raise NotAllowed(_("只有政策的主管部门管理员可以生成申请"))
    if not programme.auto_apply:
        raise Conflict(_("该政策未开通免申即享"), code="not_auto_apply")
    _open(programme, day)
    outreach = outreach or find(programme, today=day)
    window = outreach.window
    if window is None:
        return []
    skip = _already_built(programme, window.year)
    told = set(
        OutreachNotice.objects.filter(programme=programme).values_list("enterprise_id", flat=True)
    )
    users = _users_by_enterprise(r.enterprise_id for r in outreach.rows)
    built: list[Application] = []
    for found in outreach.rows:
        made = [
            app
            for candidate in found.loans
            if candidate.loan_id not in skip
            and (app := _build_one(actor, programme, candidate, window)) is not None
        ]
        built.extend(made)
        recipients = users.get(found.enterprise_id)
        if made and recipients:
            link = reverse("policy:application", args=[made[0].pk])
            if found.enterprise_id in told:
                notify.send(
                    recipients,
                    "policy.outreach",
                    _("「%(p)s」已为您生成 %(n)s 笔免申即享申请，请核对后确认")
                    % {"p": programme.name, "n": len(made)},
                    link,
                )
            else:
                _tell(actor, programme, found, recipients, link, built=len(made))
    return built


def _build_one(actor, programme: Programme, candidate: CandidateLoan, window: Window):
    period = candidate.period(window)
    try:
        with transaction.atomic():
            if candidate.loan_id is not None:
                loan = Loan.objects.select_related("project").get(pk=candidate.loan_id)
            else:
                loan = loan_from_demand(Demand.objects.get(pk=candidate.demand_id), actor)
            claim = Claim(period_start=period[0], period_end=period[1], paid_cost=None)
            result = compute(programme, claim, loan=loan, enterprise_id=candidate.enterprise_id)
            if result.amount <= 0:
                raise _NothingToPay  # a cap already reached, a loan at 0 % …: write nothing
            application = Application.objects.create(
                programme=programme,
                enterprise_id=candidate.enterprise_id,
                institution_id=loan.institution_id,
                loan=loan,
                year=window.year,
                period_start=period[0],
                period_end=period[1],
                paid_cost=None,
                amount=result.amount,
                calculation=result.as_json(),
                state=ApplicationState.PROPOSED,
                auto_built=True,
            )
            audit.record(
                "policy.application.propose",
                actor=actor if getattr(actor, "pk", None) else None,
                obj=application,
                changes={
                    "state": [None, ApplicationState.PROPOSED],
                    "amount": str(result.amount),
                    "auto_built": True,
                },
            )
    except _NothingToPay:
        return None
    except IntegrityError:
        return None  # a live application for this loan and year appeared meanwhile
    return application


class _NothingToPay(Exception):
    """Rolls back a build (with the platform loan it copied) that would pay nothing."""


# --- the daily job ------------------------------------------------------------------------


def run_auto(today: date | None = None) -> dict[str, int]:
    """For every 免申即享 programme in force: build what is new and tell
    whoever has not been told. Returns counts for the job's log."""
    day = today or timezone.localdate()
    totals = {"programmes": 0, "built": 0, "notified": 0}
    programmes = Programme.objects.in_force(day).filter(auto_apply=True, kind__in=OUTREACH_KINDS)
    for programme in programmes.select_related("region"):
        outreach = find(programme, today=day)
        notices = OutreachNotice.objects.filter(programme=programme)
        before = notices.count()
        totals["programmes"] += 1
        totals["built"] += len(build(None, programme, outreach, today=day))
        notify_found(None, programme, outreach, today=day)
        # Told with their new applications, or about the programme alone.
        totals["notified"] += notices.count() - before
    return totals


def summary(outreach: Outreach) -> dict[str, Any]:
    """Counts for the page, the command and the export's title."""
    return {
        "enterprises": outreach.count,
        "loans": outreach.loan_count,
        "estimated_total": outreach.estimated_total,
        "year": outreach.window.year if outreach.window else None,
    }
