"""碳核算 pages (under /green/carbon/): the reports a user may see, the report
form (a year or a month, many lines), a report's line-by-line result, the
government's regional overview by industry, and the factor database (a
platform admin adds a newer year there).

Views hold no rules: who may see what is `visible_to`, who may report for
whom and every check is `services.carbon`; a refused form comes back with
each error beside its field (a line's errors beside that line), never a 500.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from chanrong.core.errors import FieldError, ServiceError, ValidationFailed
from chanrong.core.paging import DEFAULT_CAP, CappedPaginator
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.registry.models import Enterprise

from ..models import CarbonReport, EmissionFactor
from ..services import carbon, carbon_factors, grades
from ..services.carbon_items import ITEMS, item_choices

LINE_ROWS = 12
UNITS = sorted({unit for item in ITEMS.values() for unit in item.units if unit != "吨"}, key=str)


def paginate(request, queryset, per_page: int = 50) -> dict:
    if hasattr(queryset, "order_by"):
        paginator = CappedPaginator(queryset, per_page, cap=DEFAULT_CAP)
    else:
        paginator = Paginator(queryset, per_page)
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    base = query.urlencode()
    return {
        "page_obj": page_obj,
        "page_range": paginator.get_elided_page_range(page_obj.number),
        "querystring_base": f"{base}&" if base else "",
    }


def _is_official(user) -> bool:
    return scope_of(user).kind in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM)


def _may_report(user) -> bool:
    return scope_of(user).kind in (ScopeKind.ENTERPRISE, ScopeKind.GOVERNMENT, ScopeKind.PLATFORM)


# --- the list ---------------------------------------------------------------------------


@login_required
@require_GET
def report_list(request):
    reports = (
        CarbonReport.objects.visible_to(request.user)
        .select_related("enterprise")
        .order_by("-year", "month", "enterprise__name", "pk")
    )
    year = request.GET.get("year", "")
    if year.isdigit() and len(year) == 4:
        reports = reports.filter(year=int(year))
    enterprise = request.GET.get("enterprise", "")
    if enterprise.isdigit() and len(enterprise) < 19:
        reports = reports.filter(enterprise_id=int(enterprise))
    pager = paginate(request, reports)
    own = None
    scope = scope_of(request.user)
    if scope.kind == ScopeKind.ENTERPRISE:
        own = Enterprise.objects.filter(pk=scope.enterprise_id).first()
    return render(
        request,
        "green/carbon/list.html",
        {
            "pager": pager,
            "page_obj": pager["page_obj"],
            "page_range": pager["page_range"],
            "querystring_base": pager["querystring_base"],
            "reports": pager["page_obj"].object_list,
            "year": year,
            "may_report": _may_report(request.user),
            "is_official": _is_official(request.user),
            "own_grade": grades.latest_grade(request.user, own) if own else None,
        },
    )


# --- the report form ------------------------------------------------------------------------


class ReportForm(forms.Form):
    uscc = forms.CharField(
        label=gettext_lazy("企业统一社会信用代码"),
        max_length=18,
        required=False,
        help_text=gettext_lazy("政府工作人员代辖区内企业填报时填写"),
    )
    year = forms.IntegerField(label=gettext_lazy("年度"))
    month = forms.TypedChoiceField(
        label=gettext_lazy("月份"),
        choices=[("", gettext_lazy("全年")), *((str(m), f"{m}月") for m in range(1, 13))],
        required=False,
        coerce=int,
        empty_value=None,
    )
    output_quantity = forms.CharField(label=gettext_lazy("主要产品产量"), required=False)
    output_unit = forms.CharField(
        label=gettext_lazy("产量单位"),
        max_length=20,
        required=False,
        help_text=gettext_lazy("如 t 水泥、万件；填写后计算单位产品排放"),
    )

    def __init__(self, *args, official: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not official:
            del self.fields["uscc"]
        item_options = [("", "—"), *item_choices()]
        unit_options = [("", "—"), *((u, u) for u in UNITS)]
        for i in range(LINE_ROWS):
            # Selects, validated by the service (not by the form), so that an
            # unknown item and a wrong unit come back together with the rest.
            self.fields[f"line_{i}_item"] = forms.CharField(
                label=pgettext("carbon", "品种"),
                required=False,
                widget=forms.Select(choices=item_options),
            )
            self.fields[f"line_{i}_quantity"] = forms.CharField(label=_("数量"), required=False)
            self.fields[f"line_{i}_unit"] = forms.CharField(
                label=pgettext("carbon", "单位"),
                required=False,
                widget=forms.Select(choices=unit_options),
            )

    def header_fields(self):
        return [
            self[name]
            for name in ("uscc", "year", "month", "output_quantity", "output_unit")
            if name in self.fields
        ]

    def line_rows(self):
        return [
            [self[f"line_{i}_item"], self[f"line_{i}_quantity"], self[f"line_{i}_unit"]]
            for i in range(LINE_ROWS)
        ]

    def service_data(self) -> tuple[dict, list[int]]:
        """The service's input and, per line it gets, the form row it came from."""
        data = self.cleaned_data
        lines, rows = [], []
        for i in range(LINE_ROWS):
            line = {k: data.get(f"line_{i}_{k}") for k in ("item", "quantity", "unit")}
            if line["item"] or line["quantity"]:
                lines.append(line)
                rows.append(i)
        return (
            {
                "year": data.get("year"),
                "month": data.get("month"),
                "output_quantity": data.get("output_quantity"),
                "output_unit": data.get("output_unit"),
                "lines": lines,
            },
            rows,
        )

    def add_service_errors(self, exc: ServiceError, rows: list[int]) -> None:
        for error in exc.errors:
            self.add_error(self._field_of(error, rows), error.message)
        if not exc.errors:
            self.add_error(None, exc.message)

    def _field_of(self, error: FieldError, rows: list[int]) -> str | None:
        name = error.field
        if name.startswith("lines[") and "]." in name:
            index, key = name[6:].split("].", 1)
            if index.isdigit() and int(index) < len(rows):
                return f"line_{rows[int(index)]}_{key}"
        return name if name in self.fields else None


def _enterprise_for(request, form: ReportForm) -> Enterprise | None:
    scope = scope_of(request.user)
    if scope.kind == ScopeKind.ENTERPRISE:
        return Enterprise.objects.filter(pk=scope.enterprise_id).first()
    uscc = (form.cleaned_data.get("uscc") or "").strip().upper()
    enterprise = Enterprise.objects.visible_to(request.user).filter(uscc=uscc).first()
    if enterprise is None:
        form.add_error("uscc", _("辖区内没有该统一社会信用代码的企业"))
    return enterprise


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request):
    if not _may_report(request.user):
        raise Http404
    official = _is_official(request.user)
    initial = {"year": timezone.localdate().year - 1}
    if request.method == "GET" and request.GET.get("uscc"):
        initial["uscc"] = request.GET["uscc"]
    form = ReportForm(request.POST or None, official=official, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            enterprise = _enterprise_for(request, form)
            if enterprise is not None:
                data, rows = form.service_data()
                try:
                    report = carbon.save_report(request.user, enterprise, data)
                except ValidationFailed as exc:
                    form.add_service_errors(exc, rows)
                except ServiceError as exc:
                    form.add_error(None, exc.message)
                else:
                    return redirect("green:carbon_report", report.pk)
    return render(
        request,
        "green/carbon/new.html",
        {"form": form, "items": ITEMS.values()},
        status=status,
    )


@login_required
@require_GET
def report_detail(request, pk: int):
    try:
        report = carbon.visible_report(request.user, pk)
    except ServiceError:
        raise Http404 from None
    grade = grades.latest_grade(request.user, report.enterprise)
    return render(
        request,
        "green/carbon/detail.html",
        {
            "report": report,
            "explained": carbon.explain(report),
            "grade": grade,
            "grade_label": grades.GRADE_LABELS[grade.grade] if grade else "",
            "grade_text": grades.describe(grade) if grade else "",
            "can_report": carbon.can_report(request.user, report.enterprise),
        },
    )


# --- government overview ---------------------------------------------------------------


@login_required
@require_GET
def overview(request):
    if not _is_official(request.user):
        raise Http404
    years = list(
        CarbonReport.objects.visible_to(request.user)
        .order_by("-year")
        .values_list("year", flat=True)
        .distinct()
    )
    raw = request.GET.get("year", "")
    if raw.isdigit() and len(raw) == 4:
        year = int(raw)
    else:
        year = years[0] if years else timezone.localdate().year - 1
    rows = grades.overview(request.user, year)
    pager = paginate(request, rows, per_page=30)
    return render(
        request,
        "green/carbon/overview.html",
        {
            "year": year,
            "years": years,
            "rows": pager["page_obj"].object_list,
            "page_obj": pager["page_obj"],
            "page_range": pager["page_range"],
            "querystring_base": pager["querystring_base"],
            "grade_numbers": grades.GRADES,
            "min_peers": grades.engine.MIN_PEERS,
            "totals": {
                "enterprises": sum(r["enterprises"] for r in rows),
                "total": sum((r["total"] for r in rows), start=0),
            },
        },
    )


# --- the factor database ---------------------------------------------------------------


class FactorForm(forms.Form):
    code = forms.ChoiceField(label=pgettext_lazy("carbon", "品种"))
    year = forms.IntegerField(label=gettext_lazy("适用年度"))
    region = forms.CharField(
        label=gettext_lazy("省级行政区划代码"),
        required=False,
        max_length=6,
        help_text=gettext_lazy("省级电网因子填写，如 330000；全国因子留空"),
    )
    ncv = forms.CharField(label=gettext_lazy("低位发热量（GJ/单位）"), required=False)
    carbon_content = forms.CharField(label=gettext_lazy("单位热值含碳量（tC/GJ）"), required=False)
    oxidation = forms.CharField(label=gettext_lazy("碳氧化率（小数，如 0.93）"), required=False)
    factor = forms.CharField(
        label=gettext_lazy("排放因子（tCO2/单位）"),
        required=False,
        help_text=gettext_lazy("电力、热力、工业过程填写此项"),
    )
    source = forms.CharField(
        label=gettext_lazy("来源"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=gettext_lazy("发布机构、文件名称和文号；无来源的因子不予接受"),
    )
    note = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        codes = {item.factor_code: item.label for item in ITEMS.values() if not item.deducted}
        self.fields["code"].choices = list(codes.items())


@login_required
@require_http_methods(["GET", "POST"])
def factor_list(request):
    may_add = carbon_factors.can_add_factor(request.user)
    form = FactorForm(request.POST or None) if may_add else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise Http404
        status = 422
        if form.is_valid():
            try:
                carbon_factors.add_factor(request.user, form.cleaned_data)
            except ValidationFailed as exc:
                for error in exc.errors:
                    form.add_error(
                        error.field if error.field in form.fields else None, error.message
                    )
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("green:carbon_factors")
    factors = EmissionFactor.objects.select_related("region").order_by("category", "code", "-year")
    pager = paginate(request, factors)
    return render(
        request,
        "green/carbon/factors.html",
        {
            "factors": pager["page_obj"].object_list,
            "page_obj": pager["page_obj"],
            "page_range": pager["page_range"],
            "querystring_base": pager["querystring_base"],
            "form": form,
        },
        status=status,
    )
