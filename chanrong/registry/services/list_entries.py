"""The members of a draft list version: adding and removing them, with reasons.

Every member carries a reason; a member carried over and then removed stays
as a "removed" row, so the next version says why it left. Adding is
idempotent (re-imports are safe). A 守信红名单 refuses an enterprise on a
失信黑名单 in force. `check_list_entry` finds what `add_list_entry` would
refuse without writing anything (for imports).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed

from ..models import Enterprise, EntryChange, ListEntry, ListType, ListVersion, Project
from ..workflows import is_drafter
from .fields import _text
from .lists import _draft_or_conflict


def _subject_label(enterprise: Enterprise | None, project: Project | None) -> str:
    return project.name if project is not None else enterprise.name if enterprise else ""


def _check_subject(actor, version: ListVersion, enterprise, project) -> Enterprise:
    lst = version.list
    if project is not None:
        if "project" not in lst.subjects:
            raise ValidationFailed({"project_id": _("该类名单只收录企业，不收录项目")})
        if not Project.objects.visible_to(actor).filter(pk=project.pk).exists():
            raise ValidationFailed({"project_id": _("项目不存在或不在您的管辖范围内")})
        if lst.region_id and not project.region_id.startswith(lst.region.prefix):
            raise ValidationFailed({"project_id": _("项目不在名单的适用地区内")})
        return project.owner
    if enterprise is None:
        raise ValidationFailed({"enterprise_id": _("必填：企业或项目")})
    if "enterprise" not in lst.subjects:
        raise ValidationFailed({"enterprise_id": _("该类名单只收录项目，不收录企业")})
    if not Enterprise.objects.visible_to(actor).filter(pk=enterprise.pk).exists():
        raise ValidationFailed({"enterprise_id": _("企业不存在或不在您的管辖范围内")})
    if lst.region_id and not enterprise.region_id.startswith(lst.region.prefix):
        raise ValidationFailed({"enterprise_id": _("企业不在名单的适用地区内")})
    if lst.list_type == ListType.RED:
        black = (
            ListEntry.objects.in_force()
            .filter(
                enterprise=enterprise,
                project__isnull=True,
                version__list__list_type=ListType.BLACK,
            )
            .select_related("version__list")
            .first()
        )
        if black is not None:
            raise ValidationFailed(
                {
                    "enterprise_id": _("该企业在失信黑名单“%(name)s”中，不能列入守信红名单")
                    % {"name": black.version.list.name}
                }
            )
    return enterprise


def add_list_entry(
    actor,
    version: ListVersion,
    *,
    enterprise: Enterprise | None = None,
    project: Project | None = None,
    reason: str,
) -> ListEntry:
    """Put an enterprise (or a project) on a draft version, with the reason.
    Adding a member already there changes nothing (re-imports are safe);
    adding back one removed in this draft restores it."""
    if not is_drafter(actor, version.list):
        raise NotAllowed(_("只有维护部门可以编制名单"))
    _draft_or_conflict(version)
    errors: list[FieldError] = []
    text = _text({"reason": reason}, "reason", errors, 300, required=True)
    if errors:
        raise ValidationFailed(errors)
    owner = _check_subject(actor, version, enterprise, project)
    with transaction.atomic():
        locked = ListVersion.objects.select_for_update().get(pk=version.pk)
        _draft_or_conflict(locked)
        existing = ListEntry.objects.filter(
            version=locked,
            enterprise=owner,
            **({"project": project} if project is not None else {"project__isnull": True}),
        ).first()
        if existing is not None and existing.change != EntryChange.REMOVED:
            return existing
        if existing is not None:
            existing.change = EntryChange.KEPT
            existing.reason = text
            existing.save()
            entry = existing
        else:
            entry = ListEntry.objects.create(
                version=locked,
                enterprise=owner,
                project=project,
                change=EntryChange.ADDED,
                reason=text,
                created_by=actor,
            )
        audit.record(
            "list_version.add",
            actor=actor,
            obj=locked,
            changes={
                "enterprise": owner.pk,
                "project": project.pk if project else None,
                "subject": _subject_label(owner, project),
                "reason": text,
            },
        )
    return entry


def remove_list_entry(actor, version: ListVersion, entry: ListEntry, *, reason: str) -> None:
    """Take a member off a draft version. A member carried over from the
    previous version stays as a "removed" row with the reason (so the next
    version says why it left); one added in this draft simply goes."""
    if not is_drafter(actor, version.list):
        raise NotAllowed(_("只有维护部门可以编制名单"))
    _draft_or_conflict(version)
    errors: list[FieldError] = []
    text = _text({"reason": reason}, "reason", errors, 300, required=True)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = ListVersion.objects.select_for_update().get(pk=version.pk)
        _draft_or_conflict(locked)
        row = ListEntry.objects.filter(pk=entry.pk, version=locked).first()
        if row is None:
            raise NotFound(_("该版本中没有这一成员"))
        if row.change == EntryChange.REMOVED:
            return
        subject = _subject_label(row.enterprise, row.project)
        if row.change == EntryChange.ADDED:
            row.delete()
        else:
            row.change = EntryChange.REMOVED
            row.reason = text
            row.save()
        audit.record(
            "list_version.remove",
            actor=actor,
            obj=locked,
            changes={
                "enterprise": entry.enterprise_id,
                "project": entry.project_id,
                "subject": subject,
                "reason": text,
            },
        )


def find_entry(version: ListVersion, *, enterprise=None, project=None) -> ListEntry | None:
    """The version's row for a subject (for importers removing by USCC)."""
    if project is not None:
        return ListEntry.objects.filter(version=version, project=project).first()
    return ListEntry.objects.filter(
        version=version, enterprise=enterprise, project__isnull=True
    ).first()


# --- checks for row-by-row imports (projects, list members): what upsert_project
# and add_list_entry would refuse, found without writing anything.


def check_list_entry(
    actor, version: ListVersion, *, enterprise: Enterprise | None, project: Project | None = None
) -> list[FieldError]:
    """The errors add_list_entry would raise for this subject (reason aside)."""
    if not is_drafter(actor, version.list):
        return [FieldError("list_version", _("只有维护部门可以编制名单"))]
    try:
        _draft_or_conflict(version)
        _check_subject(actor, version, enterprise, project)
    except (ValidationFailed, Conflict) as exc:
        return list(exc.errors) or [FieldError("list_version", exc.message)]
    return []
