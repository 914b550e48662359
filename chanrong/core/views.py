import json
from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import audit
from .exporting import ExportColumn, export_filename, write_xlsx
from .models import AuditEntry, can_browse_audit

AUDIT_PAGE_SIZE = 50


# --- audit log browsing (platform admins, government admins) ---------------


class AuditFilterForm(forms.Form):
    action = forms.CharField(
        label=_("操作"),
        required=False,
        max_length=64,
        help_text=_("可只填前缀，如 auth. 或 token."),
    )
    actor = forms.CharField(label=_("操作人"), required=False, max_length=150)
    object_type = forms.CharField(
        label=_("对象类型"), required=False, max_length=64, help_text=_("如 registry.enterprise")
    )
    date_from = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("截止日期不能早于起始日期"))
        return data

    def apply(self, qs):
        """Narrow an already-scoped queryset; dates are whole local days."""
        data = self.cleaned_data
        if data.get("action"):
            qs = qs.filter(action__startswith=data["action"].strip())
        if data.get("actor"):
            qs = qs.filter(actor_name__icontains=data["actor"].strip())
        if data.get("object_type"):
            qs = qs.filter(object_type=data["object_type"].strip())
        if data.get("date_from"):
            qs = qs.filter(created_at__gte=_local_midnight(data["date_from"]))
        if data.get("date_to"):
            qs = qs.filter(created_at__lt=_local_midnight(data["date_to"] + timedelta(days=1)))
        return qs


def _local_midnight(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _require_audit_browser(user) -> None:
    if not can_browse_audit(user):
        raise Http404


@login_required
def audit_list(request):
    _require_audit_browser(request.user)
    qs = AuditEntry.objects.visible_to(request.user).order_by("-seq")
    form = AuditFilterForm(request.GET or None)
    if form.is_bound:
        qs = form.apply(qs) if form.is_valid() else qs.none()
    paginator = Paginator(qs, AUDIT_PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    querystring = params.urlencode()
    return render(
        request,
        "core/audit_list.html",
        {
            "form": form,
            "page_obj": page_obj,
            "entries": page_obj.object_list,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": f"{querystring}&" if querystring else "",
        },
    )


def _audit_columns() -> tuple[ExportColumn, ...]:
    """Built per request: the headers in the request's language, as plain str."""
    return tuple(
        ExportColumn(str(column.header), column.value, column.width, column.kind)
        for column in _AUDIT_COLUMNS
    )


_AUDIT_COLUMNS = (
    ExportColumn(_("序号"), lambda e: e.seq, 10, "integer"),
    ExportColumn(_("时间"), lambda e: e.created_at, 20, "text"),
    ExportColumn(_("操作人"), lambda e: e.actor_name, 16),
    ExportColumn(_("所属单位"), lambda e: e.organisation, 24),
    ExportColumn(_("操作"), lambda e: e.action, 24),
    ExportColumn(_("对象类型"), lambda e: e.object_type, 20),
    ExportColumn(_("对象编号"), lambda e: e.object_id, 12),
    ExportColumn(_("对象"), lambda e: e.object_repr, 24),
    ExportColumn(_("IP"), lambda e: e.ip, 16),
    ExportColumn(
        _("变更"), lambda e: json.dumps(e.changes, ensure_ascii=False, sort_keys=True), 40
    ),
    ExportColumn(_("哈希"), lambda e: e.hash, 66),
)


@login_required
def audit_export(request):
    """The filtered log as .xlsx, for the audit administrator (三权分立: the
    one who reads it also takes it away), itself recorded in the log."""
    _require_audit_browser(request.user)
    qs = AuditEntry.objects.visible_to(request.user).order_by("seq")
    form = AuditFilterForm(request.GET or None)
    if form.is_bound:
        if not form.is_valid():
            return HttpResponseBadRequest(_("筛选条件有误"))
        qs = form.apply(qs)
    handle, written = write_xlsx(_audit_columns(), qs.iterator(), sheet_name="audit")
    audit.record(
        "audit.export",
        actor=request.user,
        changes={"filters": {k: v for k, v in request.GET.items()}, "rows": written},
    )
    return FileResponse(handle, as_attachment=True, filename=export_filename("audit-log"))


@login_required
def audit_detail(request, seq: int):
    _require_audit_browser(request.user)
    entry = AuditEntry.objects.visible_to(request.user).filter(seq=seq).first()
    if entry is None:
        raise Http404
    changes = json.dumps(entry.changes, ensure_ascii=False, indent=2, sort_keys=True)
    return render(request, "core/audit_detail.html", {"entry": entry, "changes": changes})
