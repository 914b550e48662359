"""The list member import: adding members to (or removing them from) a draft
list version, row by row through `add_list_entry` / `remove_list_entry`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import FieldError, NotAllowed, ValidationFailed
from chanrong.core.importing.cells import Choice, Text, Uscc
from chanrong.core.importing.spec import Column, ImportSpec

from .. import services
from ..models import EntryChange, ListVersion, Project, VersionStatus
from ..workflows import is_drafter
from .common import USCC_ALIASES, _check_name, _choices, _renamed, _visible_by_uscc, _write_rowwise


class ListAction(models.TextChoices):
    ADD = "add", _("列入")
    REMOVE = "remove", _("移出")


LIST_MEMBER_COLUMNS: tuple[Column, ...] = (
    Column(
        "uscc",
        "统一社会信用代码",
        Uscc(),
        required=True,
        aliases=USCC_ALIASES,
        help=_("企业须已在名录库中登记，且在您的管辖范围内"),
        example="91330421MA2D00001A",
        width=22,
    ),
    Column(
        "name",
        "企业名称",
        Text(max_length=100),
        aliases=("名称", "企业全称", "单位名称"),
        help=_("用于核对：与信用代码对应的企业名称不符时报错"),
        example="嘉善示例电子有限公司",
        width=28,
    ),
    Column(
        "project_name",
        "项目名称",
        Text(max_length=100),
        aliases=("重点项目名称",),
        help=_("收录项目的名单填写（该企业名下已登记的项目）；收录企业时留空"),
        width=30,
    ),
    Column(
        "action",
        "调整方式",
        Choice(
            choices=_choices(ListAction),
            aliases={
                "新增": ListAction.ADD,
                "增加": ListAction.ADD,
                "加入": ListAction.ADD,
                "纳入": ListAction.ADD,
                "删除": ListAction.REMOVE,
                "移除": ListAction.REMOVE,
                "退出": ListAction.REMOVE,
                "调出": ListAction.REMOVE,
            },
        ),
        aliases=("调整", "变动", "操作"),
        help=_("留空表示“列入”"),
        example="列入",
    ),
    Column(
        "reason",
        "理由",
        Text(max_length=300),
        required=True,
        aliases=("列入理由", "调整理由", "原因", "说明", "推荐理由"),
        example="2024 年度专精特新中小企业",
        width=36,
    ),
)
_LIST_ERRORS = {"enterprise_id": "uscc", "project_id": "project_name"}


class ListMemberSpec(ImportSpec):
    kind = "list_members"
    label = _("名单成员")
    columns = LIST_MEMBER_COLUMNS
    key_columns = ("uscc", "project_name")
    notes = (
        _("导入到一个草稿状态的名单版本；提交审批和发布在名单页面进行。"),
        _("已在该版本中的企业再次“列入”不会重复；“移出”会记录理由，发布后的新版本据此说明变动。"),
    )

    def can_import(self, actor) -> bool:
        return services.can_create_list(actor)

    def _drafts(self, actor):
        versions = (
            ListVersion.objects.visible_to(actor)
            .filter(status=VersionStatus.DRAFT)
            .select_related("list")
            .order_by("list__name")
        )
        return [v for v in versions if is_drafter(actor, v.list)]

    def parameters(self, actor) -> list[dict[str, Any]]:
        return [
            {
                "name": "list_version",
                "label": _("导入到名单版本"),
                "help": _("只列出您可以编制的草稿版本；请先在名单页面新建版本"),
                "choices": [(str(v.pk), str(v)) for v in self._drafts(actor)],
            }
        ]

    def prepare(self, actor, params: dict[str, Any]) -> tuple[Any, ListVersion]:
        if not self.can_import(actor):
            raise NotAllowed(_("无权导入名单成员"))
        try:
            pk = int(params.get("list_version") or 0)
        except (TypeError, ValueError):
            pk = 0
        version = next((v for v in self._drafts(actor) if v.pk == pk), None)
        if version is None:
            raise ValidationFailed(
                {"list_version": _("请选择一个您可以编制的草稿版本（名单版本须为草稿状态）")}
            )
        return actor, version

    def clean(self, context, rows: Sequence[dict[str, Any]]) -> list[Any]:
        actor, version = context
        found = _visible_by_uscc(actor, rows)
        results: list[Any] = []
        for row in rows:
            errors: list[FieldError] = []
            enterprise = found.get(row.get("uscc") or "")
            if enterprise is None:
                results.append([FieldError("uscc", _("企业未登记或不在您的管辖范围内"))])
                continue
            _check_name(row, enterprise, "name", errors)
            project = None
            if row.get("project_name"):
                project = Project.objects.filter(
                    owner=enterprise, name=" ".join(row["project_name"].split())
                ).first()
                if project is None:
                    errors.append(
                        FieldError("project_name", _("该企业名下没有这个项目（请先登记项目）"))
                    )
            if row.get("action") == ListAction.REMOVE:
                if (
                    not errors
                    and services.find_entry(
                        version, enterprise=enterprise if project is None else None, project=project
                    )
                    is None
                ):
                    errors.append(FieldError("uscc", _("该企业（项目）不在此版本名单中，无法移出")))
            elif not errors:
                errors.extend(
                    _renamed(
                        services.check_list_entry(
                            actor, version, enterprise=enterprise, project=project
                        ),
                        _LIST_ERRORS,
                    )
                )
            results.append(errors or {**row, "enterprise": enterprise, "project": project})
        return results

    def write(self, context, actor, rows, *, valid_only: bool, source: dict[str, Any]):
        version = context[1]

        def write_row(row):
            enterprise, project = row["enterprise"], row["project"]
            existing = services.find_entry(
                version, enterprise=enterprise if project is None else None, project=project
            )
            if row.get("action") == ListAction.REMOVE:
                if existing is None:
                    raise ValidationFailed({"uscc": _("该企业（项目）不在此版本名单中，无法移出")})
                if existing.change == EntryChange.REMOVED:
                    return "unchanged"
                services.remove_list_entry(actor, version, existing, reason=row["reason"])
                return "updated"
            if existing is not None and existing.change != EntryChange.REMOVED:
                return "unchanged"
            services.add_list_entry(
                actor, version, enterprise=enterprise, project=project, reason=row["reason"]
            )
            return "created"

        return _write_rowwise(rows, valid_only, write_row, _LIST_ERRORS)
