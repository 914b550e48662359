"""Who may take how much personal data out of the platform, and the record of it.

Issue 15, finding 4: three government accounts exported all 3,000
enterprises with their contacts and nothing was written down. Now:

- every export (`core:export`) writes one audit entry, `export.download`:
  kind, filters, rows, whether personal fields were included, and why;
- an export whose table holds personal fields (`Export.personal_fields`)
  needs a stated purpose (导出用途) and is capped per request and per day by
  the user's role (`settings.CHANRONG_EXPORT_CAPS`); over a cap the request
  is refused — no file, never a truncated one — and the refusal is recorded
  (`export.refused`).

The day's use is read back from the audit log itself (the entries of this
user's personal exports since local midnight), under a lock on the user's
row so that two requests at once cannot both pass the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .exporting import Export, ExportTooLarge, row_limit
from .models import AuditEntry

EXPORT_ACTION = "export.download"
REFUSED_ACTION = "export.refused"
PURPOSE_MIN, PURPOSE_MAX = 4, 200


@dataclass(frozen=True)
class Caps:
    per_request: int
    per_day: int


@dataclass(frozen=True)
class ExportOutcome:
    handle: Any  # open .xlsx file
    rows: int


class ExportRefused(Exception):
    """Over a cap, or no purpose given: `message` says which, for the user;
    `field` names the form field at fault ("" for the request as a whole)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def caps_for(user) -> Caps:
    """The user's role's caps on rows with personal fields ((0, 0): none)."""
    per_request, per_day = settings.CHANRONG_EXPORT_CAPS.get(getattr(user, "role", ""), (0, 0))
    return Caps(int(per_request), int(per_day))


def personal_rows_today(user, *, now: datetime | None = None) -> int:
    """Rows with personal fields this user exported since local midnight."""
    today = timezone.localtime(now).date()
    start = timezone.make_aware(datetime.combine(today, time.min))
    entries = AuditEntry.objects.filter(
        action=EXPORT_ACTION, actor_id=user.pk, created_at__gte=start
    ).values_list("changes", flat=True)
    return sum(int(c.get("rows", 0)) for c in entries if c.get("personal"))


def clean_purpose(text: str | None) -> str:
    purpose = " ".join((text or "").split())
    if len(purpose) < PURPOSE_MIN:
        raise ExportRefused(
            _("导出的表格含个人信息，请填写导出用途（至少 %(n)d 个字）") % {"n": PURPOSE_MIN},
            field="purpose",
        )
    return purpose[:PURPOSE_MAX]


def _filters(params) -> dict[str, Any]:
    return {
        key: values[0] if len(values) == 1 else values
        for key, values in sorted(params.lists())
        if key not in {"csrfmiddlewaretoken", "purpose"}
    }


def run_export(user, export: Export, params, *, purpose: str | None = None) -> ExportOutcome:
    """Build `export` for `user` with the page's filters `params`, within the
    caps, and record it. Raises ExportRefused (recorded as `export.refused`
    when it is about the caps)."""
    personal = bool(export.personal_fields)
    filters = _filters(params)
    if not personal:
        handle, rows = export.build(user, params)
        _record(user, export, filters, rows, personal=False, purpose=(purpose or "").strip())
        return ExportOutcome(handle, rows)
    reason = clean_purpose(purpose)
    caps = caps_for(user)
    if caps.per_request <= 0 or caps.per_day <= 0:
        raise ExportRefused(_("你的角色不能导出含个人信息的表格"))
    refused = False
    with transaction.atomic():
        # One personal export per user at a time: the day's count stays true.
        get_user_model().objects.select_for_update().filter(pk=user.pk).exists()
        used = personal_rows_today(user)
        limit = min(caps.per_request, max(caps.per_day - used, 0))
        try:
            if limit <= 0:
                raise ExportTooLarge(0)
            with row_limit(limit):
                handle, rows = export.build(user, params)
            if rows > limit:  # a build that does not write through write_xlsx
                handle.close()
                raise ExportTooLarge(limit)
        except ExportTooLarge:
            refused = True
        else:
            _record(user, export, filters, rows, personal=True, purpose=reason)
    if refused:
        # After the block: the refusal stays on record although nothing was exported.
        _refused(user, export, filters, caps, used, reason)
        raise ExportRefused(_refusal(caps, used, limit))
    return ExportOutcome(handle, rows)


def _refusal(caps: Caps, used: int, limit: int) -> str:
    if limit < caps.per_request:
        return _(
            "今天已导出含个人信息的记录 %(used)d 条，每日上限 %(day)d 条，今天还可导出 %(left)d 条；"
            "本次结果超过剩余额度，未导出任何数据。请缩小筛选范围，或明天再导出"
        ) % {"used": used, "day": caps.per_day, "left": max(limit, 0)}
    return _(
        "本次结果超过每次导出含个人信息记录的上限（%(n)d 条），未导出任何数据；请缩小筛选范围后分批导出"
    ) % {"n": caps.per_request}


def _record(user, export: Export, filters, rows: int, *, personal: bool, purpose: str) -> None:
    record_export(
        user,
        export.kind,
        str(export.label),
        filters,
        rows,
        personal_fields=export.personal_fields if personal else (),
        purpose=purpose,
    )


def record_export(
    user,
    kind: str,
    label: str,
    filters: dict[str, Any],
    rows: int,
    *,
    personal_fields: tuple[str, ...] = (),
    purpose: str = "",
) -> None:
    """The audit entry of one export (`export.download`). For the exports
    apps serve themselves (a list version's workbook, page and API alike),
    so that every export reads the same in the log."""
    audit.record(
        EXPORT_ACTION,
        actor=user,
        object_type="export",
        object_id=kind,
        object_repr=label,
        changes={
            "kind": kind,
            "filters": filters,
            "rows": rows,
            "personal": bool(personal_fields),
            "personal_fields": list(personal_fields),
            "purpose": purpose,
        },
    )


def _refused(user, export: Export, filters, caps: Caps, used: int, purpose: str) -> None:
    with transaction.atomic():
        audit.record(
            REFUSED_ACTION,
            actor=user,
            object_type="export",
            object_id=export.kind,
            object_repr=str(export.label),
            changes={
                "kind": export.kind,
                "filters": filters,
                "personal": True,
                "purpose": purpose,
                "cap_per_request": caps.per_request,
                "cap_per_day": caps.per_day,
                "used_today": used,
            },
        )
