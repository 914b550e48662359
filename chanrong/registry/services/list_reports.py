"""Reading lists: the difference between two versions, an enterprise's
memberships now and before, and a version as a workbook.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core.errors import ValidationFailed
from chanrong.core.export_policy import record_export

from ..models import Enterprise, EnterpriseList, EntryChange, ListEntry, ListVersion, Project


@dataclass
class VersionDiff:
    """How version b differs from version a (of the same list)."""

    a: ListVersion
    b: ListVersion
    added: list[ListEntry]  # rows of b
    removed: list[ListEntry]  # rows of a (reasons from b's "removed" rows where b has them)
    removal_reasons: dict[tuple[int, int | None], str]
    kept: int


def compare_versions(a: ListVersion, b: ListVersion, viewer=None) -> VersionDiff:
    """Members of b not in a (added) and of a not in b (removed), found by
    one grouped query over both versions' rows; any two versions of a list
    can be compared, not only neighbours. With `viewer`, only the rows that
    user may see take part (an enterprise sees only itself)."""
    if a.list_id != b.list_id:
        raise ValidationFailed({"b": _("只能比较同一名单的两个版本")})
    base = ListEntry.objects.visible_to(viewer) if viewer is not None else ListEntry.objects.all()
    grouped = (
        base.filter(version__in=[a.pk, b.pk])
        .members()
        .values("enterprise_id", "project_id")
        .annotate(
            in_a=Count("pk", filter=Q(version_id=a.pk)),
            in_b=Count("pk", filter=Q(version_id=b.pk)),
        )
    )
    only_a: set[tuple[int, int | None]] = set()
    only_b: set[tuple[int, int | None]] = set()
    kept = 0
    for row in grouped:
        key = (row["enterprise_id"], row["project_id"])
        if row["in_a"] and not row["in_b"]:
            only_a.add(key)
        elif row["in_b"] and not row["in_a"]:
            only_b.add(key)
        else:
            kept += 1

    def rows(version, keys):
        if not keys:
            return []
        entries = base.filter(version=version).members()
        entries = entries.select_related("enterprise__region", "project")
        return [e for e in entries.order_by("pk") if (e.enterprise_id, e.project_id) in keys]

    reasons = {
        (e.enterprise_id, e.project_id): e.reason
        for e in base.filter(version=b, change=EntryChange.REMOVED)
    }
    return VersionDiff(a, b, rows(b, only_b), rows(a, only_a), reasons, kept)


@dataclass
class PastMembership:
    list: EnterpriseList
    project: Project | None
    first_from: date
    last_until: date


def enterprise_memberships(
    viewer, enterprise: Enterprise, on: date | None = None
) -> tuple[list[ListEntry], list[PastMembership]]:
    """The lists `enterprise` (or one of its projects) is on now, and those it
    was on before but is not now, among what `viewer` may see."""
    day = on or timezone.localdate()
    visible = ListEntry.objects.visible_to(viewer).filter(enterprise=enterprise)
    current = list(
        visible.in_force(day)
        .select_related("version__list__agency", "project")
        .order_by("version__list__list_type", "version__list__name")
    )
    now = {(e.version.list_id, e.project_id) for e in current}
    past_rows = (
        visible.before(day)
        .values("version__list_id", "project_id")
        .annotate(
            first_from=Min("version__effective_from"), last_until=Max("version__effective_until")
        )
        .order_by("-last_until")
    )
    past_rows = [r for r in past_rows if (r["version__list_id"], r["project_id"]) not in now]
    lists = EnterpriseList.objects.in_bulk({r["version__list_id"] for r in past_rows})
    projects = Project.objects.in_bulk({r["project_id"] for r in past_rows if r["project_id"]})
    past = [
        PastMembership(
            lists[r["version__list_id"]],
            projects.get(r["project_id"]),
            r["first_from"],
            r["last_until"],
        )
        for r in past_rows
    ]
    return current, past


def export_version_xlsx(viewer, version: ListVersion) -> bytes:
    """The version as a workbook: a title block and its members, then a
    second sheet with the changes against the version it was drafted from."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    lst = version.list
    entries = (
        ListEntry.objects.visible_to(viewer)
        .filter(version=version)
        .select_related("enterprise__region", "project__region")
        .order_by("pk")
    )
    book = Workbook()
    sheet = book.active
    sheet.title = _("名单")
    bold = Font(bold=True)
    sheet.append([lst.name])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([_("名单类型"), lst.get_list_type_display()])
    sheet.append([_("维护部门"), lst.agency.name])
    sheet.append([_("适用地区"), lst.region.full_name if lst.region_id else _("全国")])
    sheet.append(
        [
            _("版本"),
            _("第 %(n)s 版（%(status)s）")
            % {"n": version.number, "status": version.get_status_display()},
        ]
    )
    sheet.append(
        [
            _("生效日期"),
            version.effective_from.isoformat() if version.effective_from else "",
            _("失效日期"),
            version.effective_until.isoformat() if version.effective_until else "",
        ]
    )
    sheet.append([])
    header = [
        _("序号"),
        _("企业名称"),
        _("统一社会信用代码"),
        _("项目名称"),
        _("所在地区"),
        _("列入理由"),
        _("本版变动"),
    ]
    sheet.append(header)
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    changes = []
    number = 0
    for entry in entries:
        if entry.change != EntryChange.KEPT:
            changes.append(entry)
        if entry.change == EntryChange.REMOVED:
            continue
        number += 1
        region = entry.project.region if entry.project_id else entry.enterprise.region
        sheet.append(
            [
                number,
                entry.enterprise.name,
                entry.enterprise.uscc,
                entry.project.name if entry.project_id else "",
                region.full_name,
                entry.reason,
                entry.get_change_display(),
            ]
        )
    for column, width in zip("ABCDEFG", (6, 36, 22, 30, 24, 40, 10), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A9"
    detail = book.create_sheet(_("本版调整"))
    detail.append([_("变动"), _("企业名称"), _("统一社会信用代码"), _("项目名称"), _("理由")])
    for cell in detail[1]:
        cell.font = bold
    for entry in changes:
        detail.append(
            [
                entry.get_change_display(),
                entry.enterprise.name,
                entry.enterprise.uscc,
                entry.project.name if entry.project_id else "",
                entry.reason,
            ]
        )
    for column, width in zip("ABCDE", (8, 36, 22, 30, 40), strict=True):
        detail.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    # Audited like every export (page and API both come here).
    record_export(
        viewer,
        "list_version",
        f"{lst.name} 第{version.number}版",
        {"list": lst.pk, "version": version.pk},
        number,
    )
    return buffer.getvalue()
