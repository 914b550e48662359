"""Acting on the outreach list (主动对接): an institution invites an
enterprise on it to publish a financing demand.

The enterprise must be one the outreach list may show the institution (on a
list version in force that the institution may see); each institution
invites a given enterprise at most once in INVITE_INTERVAL, so the list
cannot be used to spam. The invitation is audited and reaches the
enterprise's users in their inbox, with a link to the demand form.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, NotAllowed, NotFound
from chanrong.core.scope import ScopeKind, scope_of

INVITE_ACTION = "matching.outreach_invite"
INVITE_INTERVAL = dt.timedelta(days=30)


def invited_recently(
    institution_id: int, enterprise_ids, now: dt.datetime | None = None
) -> set[int]:
    """Which of `enterprise_ids` the institution invited within INVITE_INTERVAL."""
    from chanrong.core.models import AuditEntry

    since = (now or timezone.now()) - INVITE_INTERVAL
    ids = [str(pk) for pk in enterprise_ids]
    if not ids:
        return set()
    return {
        int(object_id)
        for object_id in AuditEntry.objects.filter(
            action=INVITE_ACTION,
            object_type="registry.enterprise",
            object_id__in=ids,
            created_at__gte=since,
            changes__institution_id=institution_id,
        ).values_list("object_id", flat=True)
    }


def invite_to_publish(actor, enterprise_id: int, *, now: dt.datetime | None = None) -> int:
    """Invite the enterprise to publish a demand; returns how many of its users were told.
    NotAllowed for anyone but institution staff, NotFound for an enterprise
    the institution's outreach list may not show, Conflict if invited recently."""
    from chanrong.registry.models import Enterprise, ListEntry

    scope = scope_of(actor)
    if scope.kind != ScopeKind.INSTITUTION:
        raise NotAllowed(_("只有金融机构可以邀请企业"))
    on_list = ListEntry.objects.visible_to(actor).in_force().filter(enterprise_id=enterprise_id)
    if not on_list.exists():
        raise NotFound(_("企业不存在或不在贵机构的对接名单内"))
    institution = actor.institution
    with transaction.atomic():
        enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
        if enterprise.pk in invited_recently(institution.pk, [enterprise.pk], now):
            raise Conflict(
                _("贵机构 %(days)s 天内已邀请过该企业") % {"days": INVITE_INTERVAL.days},
                code="invited_recently",
            )
        audit.record(
            INVITE_ACTION,
            actor=actor,
            obj=enterprise,
            changes={"institution_id": institution.pk},
        )
        message = _("%(institution)s 邀请贵企业在平台发布融资需求，以便为您提供融资方案。") % {
            "institution": institution.name
        }
        return notify.send(
            enterprise.users.filter(is_active=True),
            "matching.invite",
            message,
            reverse("demands:create"),
            actor=actor,
        )
