"""The one entry point for telling people that something happened.

Every service that notifies calls `send`. Each recipient gets an in-app inbox
row (core.Notification) at once, and, on request, an e-mail (default on) and
a text message (default off), sent later by background tasks. Webhooks to an
institution's own systems go through `chanrong.api.webhooks.emit` instead:
they carry data for machines, not messages for people.

Call it inside the transaction of the change it reports: if the change rolls
back, so does the inbox row, and the e-mail and SMS tasks are only enqueued
once the transaction has committed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string, select_template
from django.utils import timezone, translation

from . import bulkinsert
from . import sms as sms_channel
from .models import Notification
from .tasking import enqueue_on_commit

logger = logging.getLogger(__name__)

MAX_MESSAGE = 500
MAX_LINK = 300
MAX_VERB = 64
MAX_SUBJECT = 120
# One SMS segment holds 70 Chinese characters; longer texts are split (and billed) by the gateway.
MAX_SMS = 140
SMS_SIGNATURE = "【产融通】"

# The user whose action is being reported, while a workflow transition's
# notifier runs (`acting`): nobody is told about what they did themselves.
_acting: ContextVar[Any] = ContextVar("chanrong_notify_acting", default=None)


@contextmanager
def acting(actor) -> Iterator[None]:
    """Within the block, `send` leaves `actor` out of every recipient list."""
    token = _acting.set(actor)
    try:
        yield
    finally:
        _acting.reset(token)


def send(
    recipients: Iterable,
    verb: str,
    message: str,
    link: str = "",
    *,
    email: bool = True,
    sms: bool = False,
    context: Mapping[str, Any] | None = None,
    actor=None,
) -> int:
    """Notify each active user in `recipients` (users or None, duplicates
    ignored); returns how many inbox messages were written. A recipient
    need not be a User instance: anything with its `pk`, `is_active`,
    `email`, `username`, `display_name` and `phone` (the demands app's
    `Recipient` rows) is told the same way.

    `email`: also e-mail users who have an address; `sms`: also text users
    whose `phone` is a mobile number — keep it for what is urgent (a deadline
    about to pass). `context` goes to the e-mail templates
    (notifications/email/<verb>.txt, else notifications/email/default.txt);
    its keys "subject" and "sms" override the subject line and the SMS text.
    `actor`: the user who caused the message (else the one `acting` names);
    they are left out — nobody is notified of their own action.
    """
    actor = actor if actor is not None else _acting.get()
    users = _unique_active(recipients, exclude=getattr(actor, "pk", None))
    # Values, not instances: nothing reads these rows back here.
    now = timezone.now()
    bulkinsert.insert_values(
        Notification,
        ("recipient_id", "verb", "message", "link", "created_at"),
        [(user.pk, verb[:MAX_VERB], message[:MAX_MESSAGE], link[:MAX_LINK], now) for user in users],
    )
    extra = dict(context or {})
    if email:
        _queue_emails(users, verb, message, link, extra)
    if sms:
        _queue_sms(users, message, link, extra)
    return len(users)


def _unique_active(recipients: Iterable, exclude: int | None = None) -> list:
    seen: set[int] = {exclude} if exclude is not None else set()
    users = []
    for user in recipients:
        if user is None or user.pk is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        users.append(user)
    return users


def absolute_link(link: str) -> str:
    """A site-relative link ("/demands/7/") as a full URL for e-mail and SMS."""
    if not link or "://" in link:
        return link
    base = getattr(settings, "CHANRONG_SITE_URL", "").rstrip("/")
    return f"{base}{link if link.startswith('/') else '/' + link}"


def _queue_emails(users: list, verb: str, message: str, link: str, extra: dict) -> None:
    from .tasks import send_email, send_emails

    addressed = [user for user in users if user.email]
    if not addressed:
        return
    try:
        template = select_template(
            [f"notifications/email/{verb}.txt", "notifications/email/default.txt"]
        )
    except TemplateDoesNotExist:  # pragma: no cover - the default ships with the app
        logger.error("no e-mail template for %s", verb)
        return
    subject = str(extra.get("subject") or message).splitlines()[0][:MAX_SUBJECT]
    # E-mails are written in the platform's language, whatever the language
    # of the request that caused them.
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("notifications/email/subject.txt", {"subject": subject}).strip()
        for user in addressed:
            body = template.render(
                {
                    **extra,
                    "recipient": user,
                    "verb": verb,
                    "message": message,
                    "link": absolute_link(link),
                    "site_url": getattr(settings, "CHANRONG_SITE_URL", ""),
                    "sent_at": timezone.localtime(),
                }
            )
            messages.append([user.email, subject, body])
    # One task for many recipients: a dispatch to a dozen institutions is one
    # background job, not one per person.
    if len(messages) == 1:
        enqueue_on_commit(send_email, *messages[0])
    else:
        enqueue_on_commit(send_emails, messages)


def _queue_sms(users: list, message: str, link: str, extra: dict) -> None:
    from .tasks import send_sms

    text = str(extra.get("sms") or message)
    full_link = absolute_link(link)
    if full_link and not extra.get("sms"):
        text = f"{text} {full_link}"
    text = f"{SMS_SIGNATURE}{text}"[:MAX_SMS]
    for user in users:
        phone = sms_channel.normalise_phone(getattr(user, "phone", ""))
        if phone is None:
            continue
        enqueue_on_commit(send_sms, phone, text)


# --- the inbox ----------------------------------------------------------------
# Marking a message read changes only the reader's own view of their inbox,
# not the state of any business object, so it is not written to the audit log
# (it would flood the chain with entries nobody investigates).


def unread_count(user) -> int:
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def inbox_of(user):
    """The user's own messages: nobody reads anyone else's inbox."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def mark_read(user, notification_id: int) -> Notification | None:
    """Mark one of the user's messages read; None if it is not theirs."""
    notification = inbox_of(user).filter(pk=notification_id).first()
    if notification is not None and notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(user) -> int:
    return inbox_of(user).filter(read_at__isnull=True).update(read_at=timezone.now())
