"""Organising events, inviting, registering, recording results; and the two
computed sources that turn held events into indicator figures.

Who may do what
- organise (create, edit, invite, publish, close, cancel, record results):
  users of the organising agency, for events in their region's subtree;
  platform admins.
- register: enterprise users and institution users, for a published event
  that is open or that invited their organisation.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import Region
from chanrong.core.money import AmountError, parse_amount
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import StateMachine, Transition, apply_transition

from .models import (
    Event,
    EventKind,
    EventStatus,
    Invitation,
    PresentedDemand,
    Registration,
    SignedDeal,
)


def is_organiser(actor, event: Event) -> bool:
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return scope.kind == ScopeKind.GOVERNMENT and scope.agency_id == event.organiser_id


def can_create_events(actor) -> bool:
    return scope_of(actor).kind in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM)


def _organiser_check(actor, event) -> bool:
    return is_organiser(actor, event)


EVENT_MACHINE = StateMachine.declare(
    "event",
    "status",
    [
        Transition(
            "publish",
            frozenset({EventStatus.DRAFT}),
            EventStatus.PUBLISHED,
            _organiser_check,
            pgettext_lazy("workflow", "发布"),
        ),
        Transition(
            "close",
            frozenset({EventStatus.PUBLISHED}),
            EventStatus.CLOSED,
            _organiser_check,
            pgettext_lazy("workflow", "结束"),
        ),
        Transition(
            "cancel",
            frozenset({EventStatus.DRAFT, EventStatus.PUBLISHED}),
            EventStatus.CANCELLED,
            _organiser_check,
            pgettext_lazy("workflow", "取消"),
        ),
    ],
)


def get_visible_event(actor, event_id: Any) -> Event:
    try:
        return (
            Event.objects.visible_to(actor)
            .select_related("region", "organiser")
            .get(pk=int(event_id))
        )
    except (Event.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("未找到该活动")) from None


def _require_organiser(actor, event: Event) -> None:
    if not is_organiser(actor, event):
        raise NotAllowed(_("只有主办单位可以执行此操作"))


# --------------------------------------------------------------------------
# create / edit


def _clean(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    def text(key: str, label: str, limit: int, required: bool = True) -> None:
        if partial and key not in data:
            return
        value = data.get(key)
        value = "" if value is None else str(value).strip()
        if "\x00" in value:
            errors[key] = _("不能包含 NUL 字符")
        elif required and not value:
            errors[key] = _("请填写%(label)s") % {"label": label}
        elif len(value) > limit:
            errors[key] = _("%(label)s不超过 %(limit)s 字") % {"label": label, "limit": limit}
        else:
            out[key] = value

    text("title", _("名称"), 200)
    text("place", _("地点"), 200)
    text("description", _("简介"), 5000, required=False)
    if not partial or "kind" in data:
        kind = data.get("kind")
        if kind not in EventKind.values:
            errors["kind"] = _("类型应为银企对接会或路演")
        else:
            out["kind"] = kind
    if not partial or "date" in data:
        value = data.get("date")
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                value = None
        if not isinstance(value, date):
            errors["date"] = _("请填写有效日期")
        elif not 2000 <= value.year <= 2100:
            errors["date"] = _("日期超出范围")
        else:
            out["date"] = value
    if not partial or "region" in data:
        region = data.get("region")
        if isinstance(region, str):
            region = Region.objects.filter(code=region.strip()).first()
        if not isinstance(region, Region):
            errors["region"] = _("请选择有效的行政区划")
        else:
            out["region"] = region
    if "is_open" in data:
        out["is_open"] = bool(data.get("is_open"))
    if errors:
        raise ValidationFailed(errors)
    return out


def create_event(actor, data: dict[str, Any]) -> Event:
    """A government user creates a draft event in its region's subtree, the
    organiser being the user's agency."""
    scope = scope_of(actor)
    if scope.kind != ScopeKind.GOVERNMENT:
        raise NotAllowed(_("只有政府部门可以组织对接活动"))
    fields = _clean(data)
    if not fields["region"].code.startswith(scope.region_prefix):
        raise ValidationFailed({"region": _("只能在本辖区内举办活动")})
    with transaction.atomic():
        event = Event.objects.create(
            organiser_id=scope.agency_id, created_by=actor, status=EventStatus.DRAFT, **fields
        )
        audit.record(
            "event.create",
            actor=actor,
            obj=event,
            changes={k: (v.code if isinstance(v, Region) else v) for k, v in fields.items()},
        )
    return event


def update_event(actor, event: Event, data: dict[str, Any]) -> Event:
    _require_organiser(actor, event)
    if event.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
        raise Conflict(_("活动已结束或已取消，不能修改"))
    fields = _clean(data, partial=True)
    scope = scope_of(actor)
    if (
        "region" in fields
        and scope.kind == ScopeKind.GOVERNMENT
        and not fields["region"].code.startswith(scope.region_prefix)
    ):
        raise ValidationFailed({"region": _("只能在本辖区内举办活动")})
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        if locked.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
            raise Conflict(_("活动已结束或已取消，不能修改"))
        before, after = {}, {}
        for key, value in fields.items():
            old = getattr(locked, key)
            before[key] = old.code if isinstance(old, Region) else old
            after[key] = value.code if isinstance(value, Region) else value
            setattr(locked, key, value)
        locked.save()
        audit.record("event.update", actor=actor, obj=locked, changes=audit.diff(before, after))
    return locked


# --------------------------------------------------------------------------
# invitations


def invite(actor, event: Event, *, enterprises=(), institutions=()) -> int:
    """Invite organisations; already invited ones are skipped. Returns how many
    invitations were added. Invitees' users are notified once the event is
    published (now, if it already is)."""
    _require_organiser(actor, event)
    if event.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
        raise Conflict(_("活动已结束或已取消，不能再邀请"))
    added: list[Invitation] = []
    with transaction.atomic():
        have_e = set(
            Invitation.objects.filter(event=event, enterprise__isnull=False).values_list(
                "enterprise_id", flat=True
            )
        )
        have_i = set(
            Invitation.objects.filter(event=event, institution__isnull=False).values_list(
                "institution_id", flat=True
            )
        )
        for e in enterprises:
            if e.pk not in have_e:
                have_e.add(e.pk)
                added.append(Invitation.objects.create(event=event, enterprise=e))
        for i in institutions:
            if i.pk not in have_i:
                have_i.add(i.pk)
                added.append(Invitation.objects.create(event=event, institution=i))
        if added:
            audit.record(
                "event.invite",
                actor=actor,
                obj=event,
                changes={
                    "enterprises": [x.enterprise_id for x in added if x.enterprise_id],
                    "institutions": [x.institution_id for x in added if x.institution_id],
                },
            )
            if event.status == EventStatus.PUBLISHED:
                _notify_invitees(event, added)
    return len(added)


def _users_of(invitations) -> list:
    from chanrong.accounts.models import User

    enterprise_ids = [i.enterprise_id for i in invitations if i.enterprise_id]
    institution_ids = [i.institution_id for i in invitations if i.institution_id]
    return list(
        User.objects.filter(is_active=True, enterprise_id__in=enterprise_ids)
        | User.objects.filter(is_active=True, institution_id__in=institution_ids)
    )


def _notify_invitees(event: Event, invitations) -> None:
    notify.send(
        _users_of(invitations),
        "event.invited",
        f"邀请您参加{event.get_kind_display()}「{event.title}」（{event.date:%Y-%m-%d}，{event.place}）",
        link=f"/events/{event.pk}/",
    )


# --------------------------------------------------------------------------
# state


def publish(actor, event: Event) -> Event:
    def on_publish(obj, transition, who):
        _notify_invitees(obj, list(obj.invitations.all()))

    return apply_transition(EVENT_MACHINE, event, "publish", actor, notify=on_publish)


def close(actor, event: Event, *, today: date | None = None) -> Event:
    """Close a held event: its results then count in the indicators. An event
    cannot be closed before its date."""
    today = today or timezone.localdate()
    if event.date > today:
        raise Conflict(_("活动尚未举行，不能结束"), code="not_held_yet")
    return apply_transition(EVENT_MACHINE, event, "close", actor)


def cancel(actor, event: Event) -> Event:
    def on_cancel(obj, transition, who):
        users = [r.user for r in obj.registrations.select_related("user")]
        notify.send(
            users, "event.cancelled", f"活动「{obj.title}」已取消", link=f"/events/{obj.pk}/"
        )

    return apply_transition(EVENT_MACHINE, event, "cancel", actor, notify=on_cancel)


# --------------------------------------------------------------------------
# registration


def _party_of(actor):
    scope = scope_of(actor)
    if scope.kind == ScopeKind.ENTERPRISE:
        return {"enterprise_id": scope.enterprise_id}
    if scope.kind == ScopeKind.INSTITUTION:
        return {"institution_id": scope.institution_id}
    return None


def can_register(actor, event: Event) -> bool:
    party = _party_of(actor)
    if party is None or event.status != EventStatus.PUBLISHED:
        return False
    return event.is_open or Invitation.objects.filter(event=event, **party).exists()


def register(actor, event: Event, note: str = "") -> Registration:
    party = _party_of(actor)
    if party is None:
        raise NotAllowed(_("只有企业和金融机构用户可以报名"))
    # Not visible (a closed draft, an uninvited private event) is a 404, as everywhere.
    event = get_visible_event(actor, event.pk)
    if event.status != EventStatus.PUBLISHED:
        raise Conflict(_("活动不在报名中"))
    if not can_register(actor, event):
        raise NotAllowed(_("该活动仅限受邀单位报名"))
    note = (note or "").strip()
    if len(note) > 200 or "\x00" in note:
        raise ValidationFailed({"note": _("备注不超过 200 字")})
    try:
        with transaction.atomic():
            registration = Registration.objects.create(event=event, user=actor, note=note, **party)
            audit.record("event.register", actor=actor, obj=event, changes={"note": note})
    except IntegrityError:
        raise Conflict(_("已经报名"), code="already_registered") from None
    return registration


def withdraw(actor, event: Event) -> None:
    event = get_visible_event(actor, event.pk)
    if event.status != EventStatus.PUBLISHED:
        raise Conflict(_("活动不在报名中"))
    with transaction.atomic():
        deleted, _rows = Registration.objects.filter(event=event, user=actor).delete()
        if not deleted:
            raise NotFound(_("尚未报名"))
        audit.record("event.withdraw", actor=actor, obj=event)


# --------------------------------------------------------------------------
# results


def _amount(value: Any, field: str) -> Decimal:
    try:
        amount = parse_amount(value, default_unit="万元")
    except AmountError as exc:
        raise ValidationFailed({field: str(exc)}) from None
    if amount is None or amount <= 0:
        raise ValidationFailed({field: _("金额应大于 0")})
    if amount >= Decimal("1e16"):
        raise ValidationFailed({field: _("金额过大")})
    return amount


def _require_results_open(event: Event) -> None:
    if event.status not in (EventStatus.PUBLISHED, EventStatus.CLOSED):
        raise Conflict(_("只有已发布或已结束的活动可以登记结果"))


def record_presented_demand(
    actor, event: Event, *, enterprise, title: str, amount: Any, demand_ref: str = ""
) -> PresentedDemand:
    """Amounts without a unit are read as 万元 (how they are announced)."""
    _require_organiser(actor, event)
    _require_results_open(event)
    title = (title or "").strip()
    if not title or len(title) > 200 or "\x00" in title:
        raise ValidationFailed({"title": _("请填写需求（不超过 200 字）")})
    value = _amount(amount, "amount")
    with transaction.atomic():
        item = PresentedDemand.objects.create(
            event=event,
            enterprise=enterprise,
            title=title,
            amount=value,
            demand_ref=(demand_ref or "")[:64],
            recorded_by=actor,
        )
        audit.record(
            "event.present_demand",
            actor=actor,
            obj=event,
            changes={"enterprise": enterprise.pk, "title": title, "amount": str(value)},
        )
    return item


def record_deal(
    actor,
    event: Event,
    *,
    enterprise,
    institution,
    amount: Any,
    signed_on: date | None = None,
    note: str = "",
) -> SignedDeal:
    """Amounts without a unit are read as 万元."""
    _require_organiser(actor, event)
    _require_results_open(event)
    value = _amount(amount, "amount")
    note = (note or "").strip()
    if len(note) > 200 or "\x00" in note:
        raise ValidationFailed({"note": _("备注不超过 200 字")})
    if enterprise is None or institution is None:
        raise ValidationFailed({"enterprise": _("请选择企业和金融机构")})
    with transaction.atomic():
        deal = SignedDeal.objects.create(
            event=event,
            enterprise=enterprise,
            institution=institution,
            amount=value,
            signed_on=signed_on or event.date,
            note=note,
            recorded_by=actor,
        )
        audit.record(
            "event.record_deal",
            actor=actor,
            obj=event,
            changes={
                "enterprise": enterprise.pk,
                "institution": institution.pk,
                "amount": str(value),
            },
        )
    return deal


def delete_deal(actor, deal: SignedDeal) -> None:
    _require_organiser(actor, deal.event)
    _require_results_open(deal.event)
    with transaction.atomic():
        audit.record(
            "event.delete_deal",
            actor=actor,
            obj=deal.event,
            changes={"deal": deal.pk, "amount": str(deal.amount)},
        )
        deal.delete()


def totals(event: Event) -> dict[str, Any]:
    signed = event.deals.aggregate(n=Sum("amount"))["n"] or Decimal(0)
    presented = event.presented.aggregate(n=Sum("amount"))["n"] or Decimal(0)
    return {
        "registrations": event.registrations.count(),
        "presented_count": event.presented.count(),
        "presented_amount": presented,
        "deal_count": event.deals.count(),
        "deal_amount": signed,
    }


# --------------------------------------------------------------------------
# computed indicator sources


def _held(prefix: str, start: date | None, end: date):
    qs = Event.objects.filter(status=EventStatus.CLOSED, date__lte=end)
    if start is not None:
        qs = qs.filter(date__gte=start)
    if prefix:
        qs = qs.filter(region__code__startswith=prefix)
    return qs


def held_sessions(prefix: str, start: date | None, end: date) -> Decimal:
    """银企信息对接活动（场次）: events held (closed) in the subtree, by event date."""
    return Decimal(_held(prefix, start, end).count())


def held_financing(prefix: str, start: date | None, end: date) -> Decimal:
    """银企信息对接活动实现融资额: deals signed at held events, in 元, counted in
    the period of the event's date (the figure the organiser announces)."""
    total = SignedDeal.objects.filter(event__in=_held(prefix, start, end)).aggregate(
        n=Sum("amount")
    )["n"]
    return Decimal(total or 0)


def held_sessions_by_region(prefix: str, start: date | None, end: date) -> dict[str, Decimal]:
    """held_sessions of every region under `prefix` in one GROUP BY."""
    rows = (
        _held(prefix, start, end)
        .values("region_id")
        .order_by()
        .annotate(n=Count("pk"))
        .values_list("region_id", "n")
    )
    return {code: Decimal(n) for code, n in rows}


def held_financing_by_region(prefix: str, start: date | None, end: date) -> dict[str, Decimal]:
    """held_financing of every region under `prefix` in one GROUP BY."""
    rows = (
        SignedDeal.objects.filter(event__in=_held(prefix, start, end))
        .values("event__region_id")
        .order_by()
        .annotate(n=Sum("amount"))
        .values_list("event__region_id", "n")
    )
    return {code: Decimal(n or 0) for code, n in rows}


def register_sources() -> None:
    from chanrong.insights.catalogue import SOURCE_EVENT_FINANCING, SOURCE_EVENT_SESSIONS
    from chanrong.insights.sources import register_source

    register_source(
        SOURCE_EVENT_SESSIONS,
        held_sessions,
        label="已结束的对接活动场次",
        by_region=held_sessions_by_region,
    )
    register_source(
        SOURCE_EVENT_FINANCING,
        held_financing,
        label="已结束的对接活动签约金额",
        money=True,
        by_region=held_financing_by_region,
    )
