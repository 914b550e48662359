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
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core.errors import NotFound, ServiceError, ValidationFailed
from chanrong.finance.models import FinancialInstitution
from chanrong.registry.models import Enterprise

from . import services
from .models import Event, EventKind, EventStatus, Registration, SignedDeal


def _event_or_404(user, pk) -> Event:
    try:
        return services.get_visible_event(user, pk)
    except NotFound:
        raise Http404 from None


def _flash(request, exc: ServiceError) -> None:
    detail = "；".join(e.message for e in exc.errors)
    messages.error(request, exc.message + (f"：{detail}" if detail else ""))


class EventForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=EventKind.choices)
    title = forms.CharField(label=gettext_lazy("名称"), max_length=200)
    date = forms.DateField(
        label=gettext_lazy("日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    place = forms.CharField(label=gettext_lazy("地点"), max_length=200)
    region = forms.CharField(
        label=gettext_lazy("举办地行政区划代码"),
        max_length=6,
        help_text=gettext_lazy("6 位数字，如嘉善县 330421"),
    )
    is_open = forms.BooleanField(
        label=gettext_lazy("公开报名"),
        required=False,
        help_text=gettext_lazy("公开：所有登录的企业和金融机构可见并可报名；否则仅受邀单位"),
    )
    description = forms.CharField(
        label=gettext_lazy("简介"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


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
    form = EventForm(request.POST or None, initial={"region": agency.region_id or ""})
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
    form = EventForm(request.POST or None, initial=initial)
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


@login_required
@require_GET
def event_detail(request, pk: int):
    event = _event_or_404(request.user, pk)
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
        context.update(
            enterprise_choices=Enterprise.objects.visible_to(request.user)
            .filter(region__code__startswith=event.region.prefix[:2])
            .order_by("name")[:500],
            institution_choices=FinancialInstitution.objects.visible_to(request.user).order_by(
                "name"
            )[:500],
        )
    return render(request, "events/event_detail.html", context)


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


def _picked(request, model, name: str):
    ids = [v for v in request.POST.getlist(name) if v.isdigit()]
    return list(model.objects.visible_to(request.user).filter(pk__in=ids))


@login_required
@require_POST
def event_invite(request, pk: int):
    event = _event_or_404(request.user, pk)
    try:
        added = services.invite(
            request.user,
            event,
            enterprises=_picked(request, Enterprise, "enterprises"),
            institutions=_picked(request, FinancialInstitution, "institutions"),
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


def _one(request, model, name: str):
    value = request.POST.get(name, "")
    if not value.isdigit():
        return None
    return model.objects.visible_to(request.user).filter(pk=int(value)).first()


@login_required
@require_POST
def event_add_demand(request, pk: int):
    event = _event_or_404(request.user, pk)
    enterprise = _one(request, Enterprise, "enterprise")
    try:
        if enterprise is None:
            raise ValidationFailed({"enterprise": _("请选择企业")})
        services.record_presented_demand(
            request.user,
            event,
            enterprise=enterprise,
            title=request.POST.get("title", ""),
            amount=request.POST.get("amount", ""),
        )
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("已登记路演需求。"))
    return redirect("events:detail", pk=event.pk)


@login_required
@require_POST
def event_add_deal(request, pk: int):
    event = _event_or_404(request.user, pk)
    enterprise = _one(request, Enterprise, "enterprise")
    institution = _one(request, FinancialInstitution, "institution")
    try:
        if enterprise is None or institution is None:
            raise ValidationFailed({"enterprise": _("请选择企业和金融机构")})
        services.record_deal(
            request.user,
            event,
            enterprise=enterprise,
            institution=institution,
            amount=request.POST.get("amount", ""),
            note=request.POST.get("note", ""),
        )
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("已登记签约。"))
    return redirect("events:detail", pk=event.pk)


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
