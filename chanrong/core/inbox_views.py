"""The in-app inbox: a user's own notifications, newest first."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import notify

PAGE_SIZE = 30


@login_required
@require_GET
def inbox(request):
    qs = notify.inbox_of(request.user).order_by("-created_at", "-pk")
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    paginator = Paginator(qs, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "core/inbox.html",
        {
            "page_obj": page_obj,
            "notifications": page_obj.object_list,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": "unread=1&" if unread_only else "",
            "unread_only": unread_only,
            "unread_total": notify.unread_count(request.user),
        },
    )


def _safe_link(request, link: str) -> str | None:
    if link and url_has_allowed_host_and_scheme(
        link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return link
    return None


@login_required
@require_POST
def mark_read(request, pk: int):
    """Mark one message read; with open=1, go on to the page it links to."""
    notification = notify.mark_read(request.user, pk)
    if notification is None:
        raise Http404
    if request.POST.get("open") == "1":
        target = _safe_link(request, notification.link)
        if target:
            return redirect(target)
    return redirect(_back(request))


@login_required
@require_POST
def mark_all_read(request):
    count = notify.mark_all_read(request.user)
    if count:
        messages.success(request, _("已将 %(count)d 条消息标为已读。") % {"count": count})
    return redirect(_back(request))


def _back(request) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    from django.urls import reverse

    return reverse("core:inbox")
