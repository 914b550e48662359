"""Event pages. Visibility from Event.objects.visible_to, rules in services;
anything not visible is a 404."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core import pickers
from chanrong.core.errors import NotFound, ServiceError, ValidationFailed

from . import services
from .forms import DealForm, EventForm, InviteForm, PresentedDemandForm
from .models import Event, EventStatus, Registration, SignedDeal


def _event_or_404(user, pk) -> Event:
    try:
        return services.get_visible_event(user, pk)
    except NotFound:
        raise Http404 from None


def _flash(request, exc: ServiceError) -> None:
    detail = "；".join(e.message for e in exc.errors)
    messages.error(request, exc.message + (f"：{detail}" if detail else ""))


def _apply_errors(form: forms.Form, exc: ValidationFailed) -> None:
    for e in exc.errors:
        form.add_error(e.field if e.field in form.fields else None, e.message)


@login_required
@require_GET
def event_list(request):
    events = Event.objects.visible_to(request.user).select_related("region", "organiser")
    status = request.GET.get("status", "")
    if status in EventStatus.values:
        events = events.filter(status=status)
    page = Paginator(events, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "events/event_list.html",
        {
            "page_obj": page,
            "events": page.object_list,
            "statuses": EventStatus.choices,
            "status": status,
            "can_create": services.can_create_events(request.user)
            and request.user.is_government_user,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def event_create(request):
    if not request.user.is_government_user:
        raise Http404
    agency = request.user.agency
    form = pickers.bind(
        EventForm(request.POST or None, initial={"region": agency.region_id or ""}), request.user
    )
    if request.method == "POST" and form.is_valid():
        try:
            event = services.create_event(request.user, form.cleaned_data)
        except ValidationFailed as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("活动已创建（草稿），邀请单位后即可发布。"))
            return redirect("events:detail", pk=event.pk)
    return render(request, "events/event_form.html", {"form": form, "event": None})


@login_required
@require_http_methods(["GET", "POST"])
def event_edit(request, pk: int):
    event = _event_or_404(request.user, pk)
    if not services.is_organiser(request.user, event):
        raise Http404
    initial = {
        "kind": event.kind,
        "title": event.title,
        "date": event.date,
        "place": event.place,
        "region": event.region_id,
        "is_open": event.is_open,
        "description": event.description,
    }
    form = pickers.bind(EventForm(request.POST or None, initial=initial), request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_event(request.user, event, form.cleaned_data)
        except ValidationFailed as exc:
            _apply_errors(form, exc)
        except ServiceError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("events:detail", pk=event.pk)
    return render(request, "events/event_form.html", {"form": form, "event": event})


def _organiser_forms(user, **bound) -> dict[str, forms.Form]:
    """The invitation, 路演 and 签约 forms, each with its own id prefix (two
    of them have an "enterprise" field) and pickers in the user's scope."""
    made = {
        "invite_form": lambda d: InviteForm(d, auto_id="inv-%s"),
        "demand_form": lambda d: PresentedDemandForm(d, auto_id="dem-%s"),
        "deal_form": lambda d: DealForm(d, auto_id="deal-%s"),
    }
    return {key: pickers.bind(bound.get(key) or build(None), user) for key, build in made.items()}


def _detail_page(request, event: Event, **bound):
    organiser = services.is_organiser(request.user, event)
    context = {
        "event": event,
        "is_organiser": organiser,
        "transitions": [t.name for t in services.EVENT_MACHINE.available(event, request.user)],
        "totals": services.totals(event),
        "can_register": services.can_register(request.user, event),
        "registered": Registration.objects.filter(event=event, user=request.user).exists(),
    }
    if organiser or request.user.is_government_user or request.user.is_platform_admin:
        context.update(
            invitations=event.invitations.select_related("enterprise", "institution"),
            registrations=event.registrations.select_related("user", "enterprise", "institution"),
            presented=event.presented.select_related("enterprise"),
            deals=event.deals.select_related("enterprise", "institution"),
        )
    if organiser:
        context.update(_organiser_forms(request.user, **bound))
    status = 422 if bound else 200
    return render(request, "events/event_detail.html", context, status=status)


@login_required
@require_GET
def event_detail(request, pk: int):
    return _detail_page(request, _event_or_404(request.user, pk))


@login_required
@require_POST
def event_transition(request, pk: int, action: str):
    event = _event_or_404(request.user, pk)
    handlers = {"publish": services.publish, "close": services.close, "cancel": services.cancel}
    handler = handlers.get(action)
    if handler is None:
        raise Http404
    try:
        handler(request.user, event)
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("活动状态已更新。"))
    return redirect("events:detail", pk=event.pk)


@login_required
@require_POST
def event_invite(request, pk: int):
    event = _event_or_404(request.user, pk)
    form = pickers.bind(InviteForm(request.POST, auto_id="inv-%s"), request.user)
    if not form.is_valid():
        return _detail_page(request, event, invite_form=form)
    try:
        added = services.invite(
            request.user,
            event,
            enterprises=form.cleaned_data["enterprises"],
            institutions=form.cleaned_data["institutions"],
        )
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("已邀请 %(n)d 家单位。") % {"n": added})
    return redirect("events:detail", pk=event.pk)


@login_required
@require_POST
def event_register(request, pk: int):
    event = _event_or_404(request.user, pk)
    try:
        services.register(request.user, event, request.POST.get("note", ""))
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("报名成功。"))
    return redirect("events:detail", pk=event.pk)


@login_required
@require_POST
def event_withdraw(request, pk: int):
    event = _event_or_404(request.user, pk)
    try:
        services.withdraw(request.user, event)
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("已取消报名。"))
    return redirect("events:detail", pk=event.pk)


@login_required
@require_POST
def event_add_demand(request, pk: int):
    event = _event_or_404(request.user, pk)
    form = pickers.bind(PresentedDemandForm(request.POST, auto_id="dem-%s"), request.user)
    if form.is_valid():
        try:
            services.record_presented_demand(request.user, event, **form.cleaned_data)
        except ValidationFailed as exc:
            _apply_errors(form, exc)
        except ServiceError as exc:
            _flash(request, exc)
            return redirect("events:detail", pk=event.pk)
        else:
            messages.success(request, _("已登记路演需求。"))
            return redirect("events:detail", pk=event.pk)
    return _detail_page(request, event, demand_form=form)


@login_required
@require_POST
def event_add_deal(request, pk: int):
    event = _event_or_404(request.user, pk)
    form = pickers.bind(DealForm(request.POST, auto_id="deal-%s"), request.user)
    if form.is_valid():
        try:
            services.record_deal(request.user, event, **form.cleaned_data)
        except ValidationFailed as exc:
            _apply_errors(form, exc)
        except ServiceError as exc:
            _flash(request, exc)
            return redirect("events:detail", pk=event.pk)
        else:
            messages.success(request, _("已登记签约。"))
            return redirect("events:detail", pk=event.pk)
    return _detail_page(request, event, deal_form=form)


@login_required
@require_POST
def event_delete_deal(request, pk: int, deal_pk: int):
    event = _event_or_404(request.user, pk)
    deal = SignedDeal.objects.filter(event=event, pk=deal_pk).select_related("event").first()
    if deal is None:
        raise Http404
    try:
        services.delete_deal(request.user, deal)
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("已删除签约记录。"))
    return redirect("events:detail", pk=event.pk)
