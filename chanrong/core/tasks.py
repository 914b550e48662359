"""Background tasks of the shared kernel: e-mail and SMS delivery, housekeeping.

E-mail and SMS leave the request through these tasks so that a slow or
unreachable SMTP server or SMS gateway never slows a page down or fails a
transaction. A failed send is tried again later (1 min, 5 min, 30 min) when
the backend can defer tasks, then recorded as a failed task.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.tasks import task

from . import sms
from .periodic import periodic
from .tasking import retry_later

logger = logging.getLogger(__name__)


@task
def send_email(to: str, subject: str, body: str, attempt: int = 1) -> int:
    """Send one e-mail through the default mailer (MAILERS)."""
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    try:
        return message.send()
    except Exception:
        if retry_later(send_email, to, subject, body, attempt=attempt):
            logger.warning(
                "e-mail to %s failed (attempt %d); will retry", to, attempt, exc_info=True
            )
            return 0
        raise


@task
def send_emails(messages: list[list[str]]) -> int:
    """Send several e-mails ([to, subject, body] each) from one task, so that
    a notification to many people enqueues one task, not one per person. A
    failed message is retried on its own (`send_email`, attempt 2 onwards)."""
    sent = 0
    failed: list[str] = []
    for to, subject, body in messages:
        message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
        try:
            sent += message.send()
        except Exception:
            if retry_later(send_email, to, subject, body, attempt=1):
                logger.warning("e-mail to %s failed; will retry", to, exc_info=True)
            else:
                logger.exception("e-mail to %s failed", to)
                failed.append(to)
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(messages)} e-mails failed: {', '.join(failed)}")
    return sent


@task
def send_sms(phone: str, text: str, attempt: int = 1) -> bool:
    """Send one text message through the configured provider (CHANRONG_SMS_PROVIDER)."""
    try:
        sms.send_now(phone, text)
    except Exception:
        if retry_later(send_sms, phone, text, attempt=attempt):
            logger.warning("SMS failed (attempt %d); will retry", attempt, exc_info=True)
            return False
        raise
    return True


@periodic(days=1)
@task
def prune_task_results() -> int:
    """Forget finished task results of the database backend after 14 days
    (failed ones after 30), so the table does not grow without bound."""
    from django.core.management import call_command
    from django_tasks_db.backend import DatabaseBackend

    if not isinstance(prune_task_results.get_backend(), DatabaseBackend):
        return 0
    call_command(
        "prune_db_task_results",
        queue_name="*",
        min_age_days=14,
        failed_min_age_days=30,
        verbosity=0,
    )
    return 1


@periodic(minutes=10)
@task
def purge_expired_counters() -> int:
    """Delete the rate windows and refusal marks that have expired
    (core.counters); an expired row already counts as absent, this only
    keeps the table small. Returns how many were deleted."""
    from . import counters

    return counters.purge_expired()


@periodic(minutes=1)
@task
def seal_audit_log() -> int:
    """Chain audit entries whose own sealing, right after their commit, did
    not happen (the process died, or the transaction holding the chain's lock
    then rolled back). Usually finds nothing."""
    from . import audit

    return audit.seal()


@periodic(minutes=10)
@task
def anchor_audit_log() -> int:
    """Write the audit chain's end down outside the database (see
    core.audit.anchors), so that `chanrong audit verify` notices rows
    removed from its end or a chain rewritten and hashed again. A safety net
    only: the web process anchors after its own audited commits, so anchors
    do not depend on this task running. Returns the anchored seq (0: empty log)."""
    from . import audit

    audit.seal()
    anchor = audit.write_anchor()
    return anchor.seq if anchor else 0
