"""The unread-message count for the header's inbox link.

Register "chanrong.core.context_processors_inbox.inbox" in TEMPLATES'
context processors; the header then shows `inbox_url` with
`inbox_unread_count` (or includes "partials/inbox_link.html"). The count is
lazy: a page that does not show it costs no query.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

from . import notify


def inbox(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    try:
        url = reverse("core:inbox")
    except NoReverseMatch:  # pragma: no cover - only while the URL is not mounted
        return {}
    return {
        "inbox_url": url,
        "inbox_unread_count": SimpleLazyObject(lambda: notify.unread_count(user)),
    }
