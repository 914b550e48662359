"""The 绿色融资企业（项目）库: applications, their review, and their
publication as the next version of the registry's green list.

An enterprise applies for itself or one of its own projects to a green list
whose region contains it, naming a catalogue item, describing the green
attribute and citing its evidence (documents by name, number and date). The
agency keeping the list approves or rejects with a reason; the enterprise
may withdraw; the agency may remove an approved one with a reason. Every
step goes through LIBRARY_APPLICATION (checked, audited, notified).

Publication never writes the list tables by hand: `propose_version` opens
(or reuses) the list's draft version through the registry's services
(start_version, add_list_entry, remove_list_entry) with the approved
applications added and the withdrawn or removed ones taken out, each with
its reason; the agency then submits and publishes it through the registry's
usual approval (list_publishing), and from its effective date the approved
applications are in the library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.models import User
from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import apply_transition
from chanrong.registry.models import (
    Enterprise,
    EnterpriseList,
    ListType,
    ListVersion,
    Project,
    VersionStatus,
)
from chanrong.registry.models.lists import _code_prefixes
from chanrong.registry.services import (
    add_list_entry,
    latest_published,
    open_version,
    remove_list_entry,
    start_version,
)
from chanrong.registry.services.fields import _blank, _date_field, _text
from chanrong.registry.services.list_entries import find_entry
from chanrong.registry.workflows import is_drafter

from ..models import (
    OPEN_LIBRARY_STATUSES,
    CatalogueItem,
    LibraryApplication,
    LibraryEvidence,
    LibraryStatus,
)
from ..workflows_library import LIBRARY_APPLICATION
from .catalogue import applicable_items, current_edition

MAX_EVIDENCE = 20


# --- where an enterprise may apply, who reviews ---------------------------------------------


def green_lists_for(enterprise: Enterprise):
    """Green lists whose region contains the enterprise (national ones too)."""
    prefixes = sorted(_code_prefixes(enterprise.region_id or ""))
    return (
        EnterpriseList.objects.filter(list_type=ListType.GREEN)
        .filter(Q(region__isnull=True) | Q(region__prefix__in=prefixes))
        .select_related("agency", "region")
        .order_by("-region__code", "name", "pk")
    )


def reviewable_lists(actor):
    """Green lists whose applications the actor reviews (its agency's)."""
    scope = scope_of(actor)
    lists = EnterpriseList.objects.filter(list_type=ListType.GREEN).select_related("region")
    if scope.kind == ScopeKind.PLATFORM:
        return lists.order_by("name", "pk")
    if scope.kind == ScopeKind.GOVERNMENT:
        return lists.filter(agency_id=scope.agency_id).order_by("name", "pk")
    return lists.none()


def may_review(actor) -> bool:
    return reviewable_lists(actor).exists()


def may_apply(actor) -> bool:
    return scope_of(actor).kind == ScopeKind.ENTERPRISE


def get_visible_application(actor, pk: int) -> LibraryApplication:
    found = (
        LibraryApplication.objects.visible_to(actor)
        .filter(pk=pk)
        .select_related(
            "enterprise", "project", "item", "category", "green_list__agency", "added_in"
        )
        .first()
    )
    if found is None:
        raise NotFound(_("入库申请不存在"))
    return found


def actions(actor, application: LibraryApplication) -> list[str]:
    return [t.name for t in LIBRARY_APPLICATION.available(application, actor)]


# --- applying ---------------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _clean_evidence(data: dict[str, Any], errors: list[FieldError]) -> list[dict[str, Any]]:
    rows = data.get("evidence")
    if not isinstance(rows, list | tuple):
        rows = []
    given = [r for r in rows if isinstance(r, dict) and any(not _blank(v) for v in r.values())]
    if not given:
        errors.append(FieldError("evidence", _("至少列出一份佐证材料（名称、文号、日期）")))
        return []
    if len(given) > MAX_EVIDENCE:
        errors.append(FieldError("evidence", _("最多 %(n)s 份佐证材料") % {"n": MAX_EVIDENCE}))
        return []
    today = timezone.localdate()
    out = []
    for n, row in enumerate(given, start=1):
        local: list[FieldError] = []
        name = _text(row, "name", local, 200, required=True)
        number = _text(row, "number", local, 100) if "number" in row else ""
        day = _date_field(row, "issued_on", local) if "issued_on" in row else None
        if isinstance(day, type(today)) and day > today:
            local.append(FieldError("issued_on", _("日期不能晚于今天")))
        errors.extend(FieldError(f"evidence[{n}].{e.field}", e.message) for e in local)
        if not local:
            out.append({"name": name, "number": number or "", "issued_on": day})
    return out


def clean_application(actor, data: dict[str, Any]) -> dict[str, Any]:
    """The application's values, or ValidationFailed naming every bad field."""
    errors: list[FieldError] = []
    allowed = {"green_list_id", "project_id", "item_code", "description", "evidence"}
    for key in sorted(set(data) - allowed):
        errors.append(FieldError(key, _("不允许的字段")))
    enterprise = Enterprise.objects.get(pk=actor.enterprise_id)
    lists = list(green_lists_for(enterprise))
    green_list = None
    if not lists:
        errors.append(FieldError("green_list_id", _("本企业所在地区尚无绿色融资企业（项目）库")))
    elif _blank(data.get("green_list_id")):
        if len(lists) == 1:
            green_list = lists[0]
        else:
            errors.append(FieldError("green_list_id", _("必填：请选择申请入库的名单")))
    else:
        wanted = _int(data["green_list_id"])
        green_list = next((lst for lst in lists if lst.pk == wanted), None)
        if green_list is None:
            errors.append(FieldError("green_list_id", _("名单不存在或不覆盖本企业所在地区")))
    project = None
    if not _blank(data.get("project_id")):
        pk = _int(data["project_id"])
        project = Project.objects.filter(pk=pk, owner=enterprise).first() if pk else None
        if project is None:
            errors.append(FieldError("project_id", _("项目不存在或不属于本企业")))
    item = None
    edition = current_edition()
    code = str(data.get("item_code") or "").strip()
    if not code:
        errors.append(FieldError("item_code", _("必填：绿色产业指导目录条目")))
    elif edition is None:
        errors.append(FieldError("item_code", _("尚未载入绿色产业指导目录")))
    else:
        item = applicable_items(edition).filter(code=code).select_related("edition").first()
        if item is None:
            known = CatalogueItem.objects.filter(edition=edition, code=code).exists()
            errors.append(
                FieldError(
                    "item_code",
                    _("请选择三级条目（或尚无三级条目的二级分类）：%(c)s 是上级分类") % {"c": code}
                    if known
                    else _("《%(ed)s》中没有编号为 %(c)s 的条目") % {"ed": edition.name, "c": code},
                )
            )
    description = _text(data, "description", errors, 2000, required=True)
    evidence = _clean_evidence(data, errors)
    if errors:
        raise ValidationFailed(errors)
    return {
        "enterprise": enterprise,
        "green_list": green_list,
        "project": project,
        "item": item,
        "description": description,
        "evidence": evidence,
    }


def _open_duplicate(values) -> bool:
    subject = (
        {"project": values["project"]}
        if values["project"] is not None
        else {"enterprise": values["enterprise"], "project__isnull": True}
    )
    return LibraryApplication.objects.filter(
        green_list=values["green_list"], status__in=OPEN_LIBRARY_STATUSES, **subject
    ).exists()


def _reviewers(application: LibraryApplication):
    return User.objects.filter(agency_id=application.green_list.agency_id, is_active=True)


def _applicants(application: LibraryApplication):
    return User.objects.filter(enterprise_id=application.enterprise_id, is_active=True)


def apply(actor, data: dict[str, Any]) -> LibraryApplication:
    """An enterprise's application to the library (module docstring)."""
    if not may_apply(actor):
        raise NotAllowed(_("只有企业用户可以申请入库"))
    values = clean_application(actor, data)
    field = "project_id" if values["project"] is not None else "green_list_id"
    duplicate = {field: _("已有待审核或已入库的申请，不能重复申请")}
    if _open_duplicate(values):
        raise ValidationFailed(duplicate)
    item = values["item"]
    category = CatalogueItem.objects.get(edition_id=item.edition_id, code=item.top_code)
    try:
        with transaction.atomic():
            application = LibraryApplication.objects.create(
                green_list=values["green_list"],
                enterprise=values["enterprise"],
                project=values["project"],
                item=item,
                category=category,
                description=values["description"],
                submitted_by=actor,
            )
            LibraryEvidence.objects.bulk_create(
                [LibraryEvidence(application=application, **row) for row in values["evidence"]]
            )
            audit.record(
                "green_library_application.submit",
                actor=actor,
                obj=application,
                changes={
                    "list": application.green_list_id,
                    "project": application.project_id,
                    "item": item.code,
                    "evidence": len(values["evidence"]),
                },
            )
    except IntegrityError:  # two submissions at once: the constraint decides
        raise ValidationFailed(duplicate) from None
    notify.send(
        _reviewers(application),
        "green_library.submitted",
        _("%(who)s 申请列入%(list)s（%(item)s），待审核")
        % {"who": application.subject_name, "list": application.green_list.name, "item": item},
        application.get_absolute_url(),
        actor=actor,
    )
    return application


# --- review and closing -----------------------------------------------------------------------


def _notify(application: LibraryApplication, transition, actor) -> None:
    messages = {
        "approve": _("%(who)s 的绿色库入库申请已审核通过，将列入名单下一版本"),
        "reject": _("%(who)s 的绿色库入库申请未通过：%(note)s"),
        "remove": _("%(who)s 已被移出%(list)s：%(note)s"),
        "withdraw": _("%(who)s 撤回了绿色库入库申请：%(note)s"),
    }
    message = messages[transition.name] % {
        "who": application.subject_name,
        "list": application.green_list.name,
        "note": application.review_note or application.closed_reason,
    }
    recipients = (
        _reviewers(application) if transition.name == "withdraw" else _applicants(application)
    )
    notify.send(
        recipients,
        f"green_library.{transition.name}",
        message,
        application.get_absolute_url(),
    )


def _reason(text: Any, field: str, *, required: bool) -> str:
    errors: list[FieldError] = []
    value = _text({field: text}, field, errors, 500, required=required)
    if errors:
        raise ValidationFailed(errors)
    return value or ""


def approve(actor, application: LibraryApplication, *, note: str = "") -> LibraryApplication:
    text = _reason(note, "note", required=False)
    return apply_transition(
        LIBRARY_APPLICATION,
        application,
        "approve",
        actor,
        changes={"reviewed_by": actor, "reviewed_at": timezone.now(), "review_note": text},
        notify=_notify,
    )


def reject(actor, application: LibraryApplication, *, note: str) -> LibraryApplication:
    text = _reason(note, "note", required=True)
    return apply_transition(
        LIBRARY_APPLICATION,
        application,
        "reject",
        actor,
        changes={"reviewed_by": actor, "reviewed_at": timezone.now(), "review_note": text},
        notify=_notify,
    )


def withdraw(actor, application: LibraryApplication, *, reason: str) -> LibraryApplication:
    text = _reason(reason, "reason", required=True)
    return apply_transition(
        LIBRARY_APPLICATION,
        application,
        "withdraw",
        actor,
        changes={"closed_reason": text, "closed_at": timezone.now()},
        notify=_notify,
    )


def remove(actor, application: LibraryApplication, *, reason: str) -> LibraryApplication:
    text = _reason(reason, "reason", required=True)
    return apply_transition(
        LIBRARY_APPLICATION,
        application,
        "remove",
        actor,
        changes={"closed_reason": text, "closed_at": timezone.now()},
        notify=_notify,
    )


# --- publication as the green list's next version ---------------------------------------------


@dataclass
class LibraryDiff:
    lst: EnterpriseList
    #: Approved applications not yet drafted into a version.
    add: list[LibraryApplication] = field(default_factory=list)
    #: Withdrawn or removed applications still to be taken off the list.
    remove: list[LibraryApplication] = field(default_factory=list)

    @property
    def in_step(self) -> bool:
        return not self.add and not self.remove


def compare(lst: EnterpriseList) -> LibraryDiff:
    """What the list's next version must change: approved applications not
    yet in any live version (never drafted, or their draft was discarded),
    and closed applications that were drafted in and not yet taken out."""
    diff = LibraryDiff(lst)
    related = ("enterprise", "project", "item")
    diff.add = list(
        LibraryApplication.objects.filter(
            green_list=lst, status=LibraryStatus.APPROVED, added_in__isnull=True
        )
        .select_related(*related)
        .order_by("pk")
    )
    closed = (
        LibraryApplication.objects.filter(
            green_list=lst,
            status__in=(LibraryStatus.WITHDRAWN, LibraryStatus.REMOVED),
            added_in__isnull=False,
            removed_in__isnull=True,
        )
        .select_related(*related)
        .order_by("pk")
    )
    still = {
        (a.enterprise_id, a.project_id)
        for a in LibraryApplication.objects.filter(
            green_list=lst, status=LibraryStatus.APPROVED
        ).only("enterprise_id", "project_id")
    }
    diff.remove = [a for a in closed if (a.enterprise_id, a.project_id) not in still]
    return diff


def _draft(actor, lst: EnterpriseList, note: str) -> ListVersion:
    version = open_version(lst)
    if version is None:
        return start_version(actor, lst, note=note)
    if version.status != VersionStatus.DRAFT:
        raise Conflict(
            _("名单第 %(n)s 版正在审批或已被退回，请先在名单页处理后再编入")
            % {"n": version.number},
            code="version_open",
        )
    return version


def propose_version(
    actor, lst: EnterpriseList, *, note: str = ""
) -> tuple[ListVersion, LibraryDiff]:
    """Draft the green list's next version with the library's changes (module
    docstring); the list's own draft is reused when one is open. 409 when
    there is nothing to change."""
    if lst.list_type != ListType.GREEN:
        raise ValidationFailed({"list": _("只能编入绿色融资企业（项目）库名单")})
    if not is_drafter(actor, lst):
        raise NotAllowed(_("只有维护部门可以编制名单"))
    errors: list[FieldError] = []
    text = _text({"note": note}, "note", errors, 500)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        EnterpriseList.objects.select_for_update().get(pk=lst.pk)
        diff = compare(lst)
        if diff.in_step:
            raise Conflict(_("没有待编入或待移出的申请，名单无需调整"), code="library_in_step")
        version = _draft(
            actor,
            lst,
            text
            or _("绿色库入库审核结果（新增 %(a)s 个，移出 %(r)s 个）")
            % {"a": len(diff.add), "r": len(diff.remove)},
        )
        for application in diff.add:
            add_list_entry(
                actor,
                version,
                enterprise=application.enterprise,
                project=application.project,
                reason=_("入库申请 #%(pk)s：%(item)s")
                % {"pk": application.pk, "item": application.item},
            )
        for application in diff.remove:
            entry = find_entry(
                version,
                enterprise=application.enterprise,
                project=application.project,
            )
            if entry is not None:
                label = application.get_status_display()
                remove_list_entry(
                    actor,
                    version,
                    entry,
                    reason=f"{label}：{application.closed_reason}"[:300],
                )
        LibraryApplication.objects.filter(pk__in=[a.pk for a in diff.add]).update(added_in=version)
        LibraryApplication.objects.filter(pk__in=[a.pk for a in diff.remove]).update(
            removed_in=version
        )
        audit.record(
            "green_library.propose_version",
            actor=actor,
            obj=version,
            changes={
                "added": [a.pk for a in diff.add],
                "removed": [a.pk for a in diff.remove],
            },
        )
    return version, diff


def in_library(application: LibraryApplication) -> bool:
    """Whether the application is in the published library today."""
    version = application.added_in
    return (
        application.status == LibraryStatus.APPROVED
        and version is not None
        and version.status == VersionStatus.PUBLISHED
        and version.effective_from <= timezone.localdate()
    )


def latest_published_version(lst: EnterpriseList) -> ListVersion | None:
    return latest_published(lst)
