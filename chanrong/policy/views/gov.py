"""What the government pages of the policy app share: the government-only
guard, programmes looked up through `visible_to` / `managed_by` (anything
else is a 404), and service refusals turned into 403 or a message.

Views call `chanrong.policy.services` for every change; a `Conflict` (409:
"预算不足", "请先安排年度预算" …) is shown as a message on the page the user
came from, never as an error page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from chanrong.core.errors import NotAllowed, NotFound, ServiceError
from chanrong.core.scope import ScopeKind, scope_of

from ..models import Programme

PAGE_SIZE = 20


def government_only(request) -> None:
    """The management pages are for agencies (and platform admins); others get a 404."""
    if scope_of(request.user).kind not in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM):
        raise Http404


def managed_programme(user, pk: int) -> Programme:
    """A programme of the user's region subtree (its management pages)."""
    return get_object_or_404(
        Programme.objects.managed_by(user).select_related("agency", "region"), pk=pk
    )


def flash(request, exc: ServiceError) -> None:
    details = "；".join(e.message for e in exc.errors if e.message != exc.message)
    messages.error(request, f"{exc.message}：{details}" if details else exc.message)


def run(request, call, success: str) -> bool:
    """Call a service for a button: a success message, or the reason it was
    refused (403 for "not yours to do", a message for everything else)."""
    try:
        call()
    except NotAllowed:
        raise PermissionDenied from None
    except NotFound:
        raise Http404 from None
    except ServiceError as exc:
        flash(request, exc)
        return False
    messages.success(request, success)
    return True
