"""The approval workflow of a list version: submit, withdraw, reject, reopen, publish.

Every step goes through the LIST_VERSION state machine (audited, with a
notification to the approvers or the drafter). Publishing sets the date the
version takes effect (never retroactive), ends the previous version the day
before, and announces the publication with `list_versions_published`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.models import Role, User
from chanrong.core import audit, notify
from chanrong.core.errors import FieldError, ValidationFailed
from chanrong.core.workflow import apply_transition

from .. import signals as registry_signals
from ..models import EnterpriseList, ListVersion
from ..workflows import LIST_VERSION
from .fields import _Absent, _blank, _date_field, _text
from .lists import latest_published


def _notify_version(version: ListVersion, transition, actor) -> None:
    lst = version.list
    link = f"/lists/{lst.pk}/versions/{version.number}/"
    if transition.name == "submit":
        approvers = User.objects.filter(
            agency_id=lst.agency_id, role=Role.GOV_ADMIN, is_active=True
        ).exclude(pk=actor.pk)
        notify.send(
            approvers,
            "list_version.submitted",
            _("名单“%(name)s”第 %(n)s 版已提交，待您审批")
            % {"name": lst.name, "n": version.number},
            link,
        )
    elif transition.name in ("publish", "reject"):
        drafter = version.submitted_by or version.created_by
        if drafter is not None and drafter.pk != actor.pk:
            message = (
                _("名单“%(name)s”第 %(n)s 版已发布，%(day)s 起生效")
                if transition.name == "publish"
                else _("名单“%(name)s”第 %(n)s 版被退回：%(note)s")
            ) % {
                "name": lst.name,
                "n": version.number,
                "day": version.effective_from,
                "note": version.review_note,
            }
            notify.send([drafter], f"list_version.{transition.name}", message, link)


def version_actions(actor, version: ListVersion) -> list[str]:
    """The transitions this actor may take now (for buttons and the API)."""
    return [t.name for t in LIST_VERSION.available(version, actor)]


def submit_version(actor, version: ListVersion) -> ListVersion:
    return apply_transition(
        LIST_VERSION,
        version,
        "submit",
        actor,
        changes={"submitted_by": actor, "submitted_at": timezone.now(), "review_note": ""},
        notify=_notify_version,
    )


def withdraw_version(actor, version: ListVersion) -> ListVersion:
    return apply_transition(LIST_VERSION, version, "withdraw", actor)


def reject_version(actor, version: ListVersion, *, note: str) -> ListVersion:
    errors: list[FieldError] = []
    text = _text({"note": note}, "note", errors, 500, required=True)
    if errors:
        raise ValidationFailed(errors, message=_("退回时须说明理由"))
    return apply_transition(
        LIST_VERSION,
        version,
        "reject",
        actor,
        changes={"review_note": text},
        notify=_notify_version,
    )


def reopen_version(actor, version: ListVersion) -> ListVersion:
    return apply_transition(LIST_VERSION, version, "reopen", actor)


def publish_version(
    actor, version: ListVersion, *, effective_from: Any = None, note: str = ""
) -> ListVersion:
    """Approve and publish: from `effective_from` (default: the draft's proposed
    date, else today) this version is the list; the version in force until
    then ends the day before. No retroactive lists: banks acted on the old
    version meanwhile, so the date may not be before today, nor before the
    previous version's."""
    errors: list[FieldError] = []
    given = {"effective_from": effective_from} if not _blank(effective_from) else {}
    day = _date_field(given, "effective_from", errors) if given else _Absent
    text = _text({"note": note}, "note", errors, 500)
    if errors:
        raise ValidationFailed(errors)
    today = timezone.localdate()
    if day is _Absent:
        proposed = ListVersion.objects.filter(pk=version.pk).values_list(
            "effective_from", flat=True
        )
        day = proposed.first() or today
    if day < today:
        raise ValidationFailed({"effective_from": _("生效日期不能早于今天（名单不溯及既往）")})
    with transaction.atomic():
        EnterpriseList.objects.select_for_update().get(pk=version.list_id)
        previous = latest_published(version.list)
        if previous is not None and day < previous.effective_from:
            raise ValidationFailed(
                {
                    "effective_from": _("生效日期不能早于上一版本的生效日期 %(day)s")
                    % {"day": previous.effective_from}
                }
            )
        published = apply_transition(
            LIST_VERSION,
            version,
            "publish",
            actor,
            changes={
                "effective_from": day,
                "effective_until": None,
                "published_at": timezone.now(),
                "approved_by": actor,
                "review_note": text,
            },
            notify=_notify_version,
            audit_extra={"members": version.entries.members().count()},
        )
        registry_signals.list_versions_published.send_after_commit([published.pk])
        if previous is not None:
            until = day - timedelta(days=1)
            if previous.effective_until is None or previous.effective_until > until:
                before = previous.effective_until
                previous.effective_until = until
                previous.save(update_fields=["effective_until"])
                audit.record(
                    "list_version.superseded",
                    actor=actor,
                    obj=previous,
                    changes={"effective_until": [before, until], "by": published.number},
                )
    return published
