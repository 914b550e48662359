"""Web pages for institution managers: their webhook endpoints and delivery log."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core.errors import FieldError, NotFound, ServiceError, ValidationFailed
from chanrong.core.paging import paginate

from . import services, webhooks
from .forms import EndpointForm
from .models import DeliveryStatus, WebhookEndpoint

PAGE_SIZE = 30


def _endpoint(request, pk: int) -> WebhookEndpoint:
    try:
        return services.get_visible_endpoint(request.user, pk)
    except NotFound as exc:
        raise Http404 from exc


def _require_any_access(user) -> None:
    """Who may not even see the list gets a 404, like any invisible object."""
    if not (user.is_platform_admin or (user.is_institution_manager and user.institution_id)):
        raise Http404


@login_required
@require_GET
def endpoint_list(request):
    _require_any_access(request.user)
    pager = paginate(
        request,
        WebhookEndpoint.objects.visible_to(request.user)
        .select_related("institution")
        .order_by("-active", "-created_at", "-pk"),
    )
    return render(
        request,
        "webhooks/endpoint_list.html",
        {
            "endpoints": pager["page_obj"].object_list,
            "pager": pager,
            "can_create": services.can_create(request.user),
            "events": webhooks.EVENTS,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def endpoint_create(request):
    _require_any_access(request.user)
    if not services.can_create(request.user):
        raise PermissionDenied
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.create_endpoint(
                request.user,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except ValidationFailed as exc:
            _add_errors(form, exc.errors)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            # Rendered, not redirected: the secret exists only in this response.
            return render(
                request,
                "webhooks/secret.html",
                {"endpoint": issued.endpoint, "secret": issued.secret, "created": True},
            )
    return render(request, "webhooks/endpoint_form.html", {"form": form})


def _add_errors(form, errors: list[FieldError]) -> None:
    for error in errors:
        form.add_error(error.field if error.field in form.fields else None, error.message)


@login_required
@require_GET
def endpoint_detail(request, pk: int):
    endpoint = _endpoint(request, pk)
    deliveries = endpoint.deliveries.order_by("-created_at", "-pk")
    status = request.GET.get("status", "")
    if status in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    else:
        status = ""
    paginator = Paginator(deliveries, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {
            "endpoint": endpoint,
            "event_labels": [(e, webhooks.EVENTS.get(e, e)) for e in endpoint.events],
            "page_obj": page_obj,
            "deliveries": page_obj.object_list,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": f"status={status}&" if status else "",
            "status": status,
            "statuses": DeliveryStatus.choices,
            "can_manage": services.can_manage(request.user, endpoint),
            "can_rotate": services.can_rotate(request.user, endpoint),
        },
    )


def _act(request, action, success: str):
    try:
        result = action()
    except ServiceError as exc:
        if exc.status == 403:
            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
        return None
    messages.success(request, success)
    return result


@login_required
@require_POST
def endpoint_set_active(request, pk: int, active: bool):
    endpoint = _endpoint(request, pk)
    _act(
        request,
        lambda: services.set_active(request.user, endpoint, active),
        _("接收地址已启用。") if active else _("接收地址已停用，将不再向其发送事件。"),
    )
    return redirect("webhooks:detail", pk=endpoint.pk)


@login_required
@require_POST
def endpoint_ping(request, pk: int):
    endpoint = _endpoint(request, pk)
    _act(
        request,
        lambda: services.send_ping(request.user, endpoint),
        _("已排队发送测试事件（ping），稍后刷新查看投递结果。"),
    )
    return redirect("webhooks:detail", pk=endpoint.pk)


@never_cache
@login_required
@require_POST
def endpoint_rotate(request, pk: int):
    endpoint = _endpoint(request, pk)
    secret = _act(
        request, lambda: services.rotate_secret(request.user, endpoint), _("签名密钥已更换。")
    )
    if secret is None:
        return redirect("webhooks:detail", pk=endpoint.pk)
    return render(
        request, "webhooks/secret.html", {"endpoint": endpoint, "secret": secret, "created": False}
    )


@login_required
@require_GET
def delivery_detail(request, pk: int):
    try:
        delivery = services.get_visible_delivery(request.user, pk)
    except NotFound as exc:
        raise Http404 from exc
    payload = json.dumps(delivery.payload, ensure_ascii=False, indent=2, sort_keys=True)
    return render(
        request,
        "webhooks/delivery_detail.html",
        {
            "delivery": delivery,
            "endpoint": delivery.endpoint,
            "payload": payload,
            "body": webhooks.body_of(delivery).decode("utf-8"),
            "can_manage": services.can_manage(request.user, delivery.endpoint),
        },
    )


@login_required
@require_POST
def delivery_redeliver(request, pk: int):
    try:
        delivery = services.get_visible_delivery(request.user, pk)
    except NotFound as exc:
        raise Http404 from exc
    again = _act(
        request,
        lambda: services.redeliver(request.user, delivery),
        _("已排队重新发送。"),
    )
    if again is None:
        return redirect("webhooks:delivery", pk=delivery.pk)
    return redirect("webhooks:delivery", pk=again.pk)
