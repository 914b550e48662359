"""The project import: 重点项目 by owner USCC and project name, row by row through
`upsert_project` (re-importing updates, never duplicates).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import NotAllowed
from chanrong.core.importing.cells import Amount, Choice, Code, Text, Uscc, Year
from chanrong.core.importing.spec import Column, ImportSpec

from .. import services
from ..models import ProjectClass, ProjectKind, ProjectStage
from .common import (
    USCC_ALIASES,
    _check_name,
    _choices,
    _renamed,
    _visible_by_uscc,
    _write_rowwise,
    _zh,
)

PROJECT_COLUMNS: tuple[Column, ...] = (
    Column(
        "owner_uscc",
        "项目单位统一社会信用代码",
        Uscc(),
        required=True,
        aliases=("项目单位信用代码", "统一社会信用代码", *USCC_ALIASES),
        help=_("项目单位须已在名录库中登记，且在您的管辖范围内"),
        example="91330421MA2D00001A",
        width=24,
    ),
    Column(
        "owner_name",
        "项目单位",
        Text(max_length=100),
        aliases=("项目单位名称", "企业名称", "建设单位"),
        help=_("用于核对：与信用代码对应的企业名称不符时报错"),
        example="嘉善示例电子有限公司",
        width=28,
    ),
    Column(
        "name",
        "项目名称",
        Text(max_length=100),
        required=True,
        help=_("同一项目单位的同名项目视为同一项目：再次导入会更新，不会重复"),
        example="年产 50 万套汽车电子元器件技术改造项目",
        width=36,
    ),
    Column(
        "kind",
        "项目类型",
        Choice(choices=_choices(ProjectKind), aliases={"技改": ProjectKind.TECH_UPGRADE}),
        aliases=("建设性质", "项目性质"),
        help=_("新项目必填"),
        example="技术改造",
    ),
    Column(
        "project_class",
        "五类项目",
        Choice(choices=_choices(ProjectClass)),
        aliases=("项目类别（五类项目）", "五类项目类别"),
        example=_zh(ProjectClass.INTEGRATION.label),
        width=24,
    ),
    Column(
        "total_investment_wan",
        "总投资（万元）",
        Amount(),
        aliases=("总投资", "计划总投资", "项目总投资"),
        help=_("新项目必填"),
        example="12000",
    ),
    Column(
        "financing_need_wan",
        "融资需求（万元）",
        Amount(),
        aliases=("融资需求", "融资需求金额", "拟融资额"),
        example="5000",
    ),
    Column(
        "stage",
        "项目阶段",
        Choice(choices=_choices(ProjectStage), aliases={"建成": ProjectStage.COMPLETED}),
        aliases=("建设阶段", "进展阶段"),
        help=_("新项目必填"),
        example="在建",
    ),
    Column(
        "region_code",
        "建设地点代码",
        Code(max_length=6, example_format=_("6 位县级行政区划代码；留空则取项目单位所在地")),
        aliases=("建设地点", "项目所在地代码", "所在地区代码"),
        example="330421",
    ),
    Column(
        "start_year",
        "开工年份",
        Year(),
        aliases=("开工时间", "计划开工年份"),
        example="2025",
    ),
    Column(
        "description",
        "建设内容",
        Text(max_length=1000),
        aliases=("主要建设内容", "项目简介"),
        example="新建生产线 3 条",
        width=36,
    ),
)
_PROJECT_ERRORS = {"owner_id": "owner_uscc"}


class ProjectSpec(ImportSpec):
    kind = "projects"
    label = _("项目")
    columns = PROJECT_COLUMNS
    key_columns = ("owner_uscc", "name")
    notes = (
        _("项目按“项目单位 + 项目名称”识别：已有的项目会被更新，不会重复登记。"),
        _("更新已有项目时，留空的单元格表示“不修改”。"),
    )

    def can_import(self, actor) -> bool:
        return services.can_create_project(actor) and not actor.is_enterprise_user

    def prepare(self, actor, params: dict[str, Any]):
        if not self.can_import(actor):
            raise NotAllowed(_("无权导入项目"))
        return actor

    @staticmethod
    def _data(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if v is not None and k in services.PROJECT_FIELDS}

    def clean(self, actor, rows: Sequence[dict[str, Any]]) -> list[Any]:
        owners = _visible_by_uscc(actor, rows, "owner_uscc")
        results: list[Any] = []
        for row in rows:
            errors = _renamed(
                services.check_project_import(actor, self._data(row)), _PROJECT_ERRORS
            )
            owner = owners.get(row.get("owner_uscc") or "")
            if owner is not None:
                _check_name(row, owner, "owner_name", errors)
            results.append(errors or row)
        return results

    def write(self, actor, _actor, rows, *, valid_only: bool, source: dict[str, Any]):
        def write_row(row):
            _project, created = services.upsert_project(actor, self._data(row))
            return "created" if created else "updated"

        return _write_rowwise(rows, valid_only, write_row, _PROJECT_ERRORS)
