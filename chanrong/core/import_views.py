"""Import pages (upload, status with a polled progress bar, report and
template downloads). The download of the tables apps register for export is
in export_views.

The job's state is in the database, so the status page shows the same
thing after a reload, in another tab, or while a background worker runs
the import; htmx polls a small fragment of it once a second until the job
ends. Who may import is the services' answer; a job of someone else is a 404.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from chanrong.core.errors import NotAllowed, NotFound, ValidationFailed
from chanrong.core.importing import services
from chanrong.core.importing.report import report_workbook, template_workbook
from chanrong.core.importing.spec import get_spec
from chanrong.core.models import ImportJob, ImportMode

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ISSUES_SHOWN = 200


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = _attachment(filename)
    return response


def _attachment(filename: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(filename)}"


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("导入内容"), choices=())
    file = forms.FileField(
        label=gettext_lazy("文件"),
        help_text=gettext_lazy("支持 .xlsx 和 .csv（UTF-8 或 GBK 编码）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("导入方式"),
        choices=ImportMode.choices,
        initial=ImportMode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "“全部无误才导入”：有任何错误就不写入任何数据；“仅导入无误的行”：跳过有误的行，其余照常导入。"
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.specs = services.importable_specs(user)
        self.fields["kind"].choices = [(spec.kind, spec.label) for spec in self.specs]
        self.param_names = []
        for spec in self.specs:
            for param in spec.parameters(user):
                name = f"{spec.kind}__{param['name']}"
                self.fields[name] = forms.ChoiceField(
                    label=param["label"],
                    choices=[("", "—"), *param["choices"]],
                    required=False,
                    help_text=param.get("help", ""),
                )
                self.param_names.append((spec.kind, param["name"], name))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            services.check_size(upload.size)
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.errors[0].message) from None
        return upload

    def params_for(self, kind: str) -> dict[str, str]:
        return {
            param: self.cleaned_data.get(field) or ""
            for spec_kind, param, field in self.param_names
            if spec_kind == kind and self.cleaned_data.get(field)
        }


def _require_importer(user):
    if not services.can_import_anything(user):
        raise PermissionDenied


@login_required
@require_GET
def import_list(request):
    _require_importer(request.user)
    jobs = ImportJob.objects.visible_to(request.user).defer("content", "issues")
    paginator = Paginator(jobs, 20)
    page = paginator.get_page(request.GET.get("page"))
    specs = {spec.kind: spec for spec in services.importable_specs(request.user)}
    for job in page.object_list:
        job.kind_label = specs[job.kind].label if job.kind in specs else job.kind
    return render(
        request,
        "imports/job_list.html",
        {
            "page_obj": page,
            "page_range": paginator.get_elided_page_range(page.number),
            "jobs": page.object_list,
            "specs": services.importable_specs(request.user),
            "querystring_base": "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_new(request):
    _require_importer(request.user)
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            kind = form.cleaned_data["kind"]
            try:
                job = services.create_job(
                    request.user,
                    kind,
                    filename=upload.name,
                    data=upload.read(),
                    mode=form.cleaned_data["mode"],
                    params=form.params_for(kind),
                )
            except ValidationFailed as exc:
                for error in exc.errors:
                    field = error.field if error.field in form.fields else None
                    if field is None and f"{kind}__{error.field}" in form.fields:
                        field = f"{kind}__{error.field}"
                    form.add_error(field, error.message)
            except NotAllowed:
                raise PermissionDenied from None
            else:
                return redirect("core:import_detail", pk=job.pk)
    else:
        form = UploadForm(user=request.user, initial={"kind": request.GET.get("kind", "")})
    return render(
        request,
        "imports/job_new.html",
        {
            "form": form,
            "specs": form.specs,
            "max_size": services.format_bytes(services.max_upload_bytes()),
        },
    )


def _visible(request, pk: int) -> ImportJob:
    try:
        return services.visible_job(request.user, pk)
    except NotFound:
        raise Http404 from None


def _job_context(job: ImportJob) -> dict:
    spec = get_spec(job.kind)
    errors = [i for i in job.issues if i.get("level") == "error"]
    warnings = [i for i in job.issues if i.get("level") != "error"]
    return {
        "job": job,
        "spec_label": spec.label if spec else job.kind,
        "errors": errors[:ISSUES_SHOWN],
        "warnings": warnings[:ISSUES_SHOWN],
        "more_issues": max(
            0, job.issue_count - len(errors[:ISSUES_SHOWN]) - len(warnings[:ISSUES_SHOWN])
        ),
    }


@login_required
@require_GET
def import_detail(request, pk: int):
    job = _visible(request, pk)
    return render(request, "imports/job_detail.html", _job_context(job))


@login_required
@require_GET
def import_progress(request, pk: int):
    """The polled fragment; once the job has ended it carries no trigger, so
    polling stops, and (for htmx) the whole page is reloaded to show the result."""
    job = _visible(request, pk)
    response = render(request, "imports/_progress.html", {"job": job})
    if job.is_finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_GET
def import_report(request, pk: int):
    job = _visible(request, pk)
    if not job.is_finished:
        raise Http404
    content = report_workbook(job, get_spec(job.kind))
    return _xlsx_response(
        content, _("校验报告-%(name)s.xlsx") % {"name": job.filename.rsplit(".", 1)[0]}
    )


@login_required
@require_GET
def import_template(request, kind: str):
    try:
        spec = services.spec_for(request.user, kind)
    except NotFound:
        raise Http404 from None
    except NotAllowed:
        raise PermissionDenied from None
    return _xlsx_response(
        template_workbook(spec), _("%(label)s导入模板.xlsx") % {"label": spec.label}
    )
