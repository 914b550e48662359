"""/imports over the API: upload a spreadsheet, poll its status, fetch the
findings (JSON, paginated) or the report (.xlsx), and the blank templates.

The same services as the web pages: who may import, the size limit, the
"is it a spreadsheet" check and the background threshold are theirs. A
small file is imported within the request (the answer is final); a large
one answers 202 with the job pending, to poll at /imports/{id}.
"""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import ObjectId
from chanrong.core.importing import services
from chanrong.core.importing.report import report_workbook, template_workbook
from chanrong.core.importing.spec import get_spec
from chanrong.core.models import ImportJob, ImportMode

router = Router(tags=["imports 数据导入"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportJobOut(Schema):
    id: int
    kind: str = Field(
        description="导入类型：enterprises / projects / list_members / operating_data"
    )
    mode: str = Field(description="all：全部无误才导入；valid_only：仅导入无误的行")
    status: str = Field(
        description="pending 排队中 / running 处理中 / done 已完成 / rejected 未导入 / failed 出错"
    )
    stage: str = Field(description="queued / reading / validating / writing / finished")
    filename: str
    size: int = Field(description="文件大小（字节）")
    sha256: str
    background: bool = Field(description="是否在后台处理")
    total_rows: int
    processed_rows: int
    percent: int = Field(description="进度（0–100）")
    valid_rows: int
    error_rows: int
    created_count: int
    updated_count: int
    issue_count: int
    message: str
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_created_at(obj: ImportJob) -> datetime:
        return timezone.localtime(obj.created_at)

    @staticmethod
    def resolve_finished_at(obj: ImportJob) -> datetime | None:
        return timezone.localtime(obj.finished_at) if obj.finished_at else None


class IssueOut(Schema):
    row: int | None = Field(description="Excel 行号（与用户在表格中看到的一致）；null 表示整个文件")
    column: str = Field(description="列字母，如 B")
    header: str = Field(description="文件中该列的表头")
    value: str = Field(description="单元格内容")
    message: str
    level: Literal["error", "warning"]


def _job(request, id: int) -> ImportJob:
    return services.visible_job(actor(request), id)


@router.post(
    "",
    response=responses({201: ImportJobOut, 202: ImportJobOut}, 400, 404, 413, 422),
    summary="上传文件并导入",
)
def create_import(
    request,
    kind: Form[str],
    file: File[UploadedFile],
    mode: Form[Literal["all", "valid_only"]] = ImportMode.ALL_OR_NOTHING,
    list_version: Form[int | None] = None,
):
    """`kind`：enterprises（企业）、projects（项目）、list_members（名单成员，需
    `list_version`：草稿版本的 id）、operating_data（经营数据）。小文件在本次请求内
    导入完毕（201，`status` 为最终结果）；大文件转入后台（202），请轮询
    `GET /imports/{id}`。超过大小上限或不是电子表格的文件直接 422。"""
    services.check_size(file.size)  # before reading a too-large file into memory
    params: dict[str, Any] = {}
    if list_version is not None:
        params["list_version"] = list_version
    job = services.create_job(
        actor(request), kind, filename=file.name or "", data=file.read(), mode=mode, params=params
    )
    return Status(201 if job.is_finished else 202, job)


@router.get("", response=responses({200: list[ImportJobOut]}, 422), summary="导入记录")
@paginated
def list_imports(request):
    return ImportJob.objects.visible_to(actor(request)).defer("content", "issues")


@router.get(
    "/templates/{kind}", response=responses({200: None}, 404), summary="下载导入模板（xlsx）"
)
def import_template(request, kind: str):
    spec = services.spec_for(actor(request), kind)
    response = HttpResponse(template_workbook(spec), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.xlsx"'
    return response


@router.get("/{id}", response=responses({200: ImportJobOut}, 404, 422), summary="导入状态")
def get_import(request, id: ObjectId):
    return _job(request, id)


@router.get(
    "/{id}/issues",
    response=responses({200: list[IssueOut]}, 404, 422),
    summary="校验问题（按行、列）",
)
@paginated
def list_issues(request, id: ObjectId):
    return _job(request, id).issues


@router.get(
    "/{id}/report", response=responses({200: None}, 404, 409), summary="下载校验报告（xlsx）"
)
def import_report(request, id: ObjectId):
    from chanrong.core.errors import Conflict

    job = _job(request, id)
    if not job.is_finished:
        raise Conflict(_("导入尚未结束，报告还没有生成"))
    response = HttpResponse(report_workbook(job, get_spec(job.kind)), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.xlsx"'
    return response
