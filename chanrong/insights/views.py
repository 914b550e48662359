"""Dashboards, plans and reporting pages. Views translate HTTP to services:
what a user may not see is a 404; rules live in services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core import pickers
from chanrong.core.errors import NotAllowed, NotFound, ServiceError, ValidationFailed
from chanrong.core.models import Industry, Region
from chanrong.core.money import YI
from chanrong.core.paging import paginate
from chanrong.core.panels import panel_context
from chanrong.core.tasking import enqueue_on_commit
from chanrong.core.text import validate_name
from chanrong.finance.models import FinancialInstitution

from . import services
from .models import Category, IndicatorDefinition, IndicatorPlan, PeriodType, SecondKind
from .received import received_figures
from .services import received as received_service
from .services import snapshots
from .tasks import refresh_figure_snapshot

# --------------------------------------------------------------------------
# helpers


def _require_viewer(user) -> None:
    if not services.can_view_indicators(user):
        raise Http404


def _plan_or_404(user, pk) -> IndicatorPlan:
    try:
        return services.get_visible_plan(user, pk)
    except NotFound:
        raise Http404 from None


def _yi(amount) -> str:
    return services.format_number(Decimal(amount or 0) / YI)


def _groups(table) -> list[dict]:
    """Consecutive rows of one category, for the merged category cell."""
    groups: list[dict] = []
    for row in table:
        if not groups or groups[-1]["category"] != row.category:
            groups.append(
                {
                    "category": row.category,
                    "label": row.definition.get_category_display(),
                    "rows": [],
                }
            )
        groups[-1]["rows"].append(row)
    return groups


def _add_errors(form: forms.Form, exc: ValidationFailed) -> None:
    for error in exc.errors:
        name = error.field if error.field in form.fields else None
        form.add_error(name, error.message)


# --------------------------------------------------------------------------
# dashboard


@login_required
@require_GET
def dashboard(request):
    """City / province / national view: cumulative platform figures, drill-down
    by region, industry section and institution, and indicator completion."""
    _require_viewer(request.user)
    region_code = (request.GET.get("region") or "").strip()
    try:
        prefix, region = services.resolve_scope_region(request.user, region_code or None)
    except NotFound:
        raise Http404 from None
    section = (request.GET.get("section") or "").strip().upper()[:1]
    if section and not Industry.objects.filter(code=section, level="section").exists():
        section = ""
    try:
        institution_id = int(request.GET.get("institution") or 0)
    except ValueError:
        institution_id = 0

    summary = services.summary(request.user, region.code if region else None)
    months = services.financing_by_month(prefix, section=section, institution_id=institution_id)
    children = services.financing_by_child_region(
        prefix, section=section, institution_id=institution_id
    )
    sections = services.financing_by_section(prefix, institution_id=institution_id)
    section_names = dict(Industry.objects.filter(level="section").values_list("code", "name"))
    institutions = services.financing_by_institution(prefix, section=section)[:15]
    names = dict(
        FinancialInstitution.objects.visible_to(request.user)
        .filter(pk__in=[i for i, _n, _a in institutions] + [institution_id])
        .values_list("pk", "short_name")
    )
    long_names = dict(
        FinancialInstitution.objects.filter(pk__in=list(names)).values_list("pk", "name")
    )

    trend = {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [_("融资额（亿元）"), _("融资笔数")]},
        "xAxis": {"type": "category", "data": [m.strftime("%Y-%m") for m, _c, _a in months]},
        "yAxis": [{"type": "value", "name": _("亿元")}, {"type": "value", "name": _("笔")}],
        "series": [
            {
                "name": _("融资额（亿元）"),
                "type": "bar",
                "data": [float(Decimal(a) / YI) for _m, _c, a in months],
            },
            {
                "name": _("融资笔数"),
                "type": "line",
                "yAxisIndex": 1,
                "data": [c for _m, c, _a in months],
            },
        ],
    }
    by_region = {
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": [r.name for r, _n, _a in children[:20]]},
        "yAxis": {"type": "value", "name": _("亿元")},
        "series": [
            {"type": "bar", "data": [float(Decimal(a) / YI) for _r, _n, a in children[:20]]}
        ],
    }
    by_section = {
        "tooltip": {"trigger": "item"},
        "series": [
            {
                "type": "pie",
                "radius": ["35%", "70%"],
                # Long section names wrap instead of being cut to "…"; slices
                # under about 5 % carry no label (the table below names them all).
                "minShowLabelAngle": 18,
                "label": {"overflow": "break", "width": 96},
                "data": [
                    {"name": section_names.get(s, s), "value": float(Decimal(a) / YI)}
                    for s, _n, a in sections
                ],
            }
        ],
    }

    # The first five plans, each against its region's kept figures (one
    # statement for all their snapshots; services.snapshots).
    plans = list(
        IndicatorPlan.objects.visible_to(request.user)
        .filter(region__code__startswith=prefix)
        .select_related("region")[:5]
    )
    kept = snapshots.snapshots_for({plan.region.prefix for plan in plans})
    this_year = timezone.localdate().year
    plan_rows = []
    for plan in plans:
        year = min(max(this_year, plan.start_year), plan.end_year)
        figures = snapshots.plan_figures(plan, year, snapshot=kept.get(plan.region.prefix))
        rows = figures.rows
        met = sum(1 for r in rows if r.status == "met")
        with_target = sum(1 for r in rows if r.status != "no_target")
        plan_rows.append(
            {"plan": plan, "year": year, "met": met, "total": with_target, "figures": figures}
        )

    # Figures child deployments reported (issue 19), read once for both panels.
    received = received_figures(request.user, prefix)

    breadcrumbs = []
    node = region
    while node is not None:
        breadcrumbs.append(node)
        node = node.parent
    breadcrumbs.reverse()
    base_prefix = services.visible_region_prefix(request.user) or ""
    breadcrumbs = [r for r in breadcrumbs if len(r.prefix) >= len(base_prefix)]

    return render(
        request,
        "insights/dashboard.html",
        {
            "summary": summary,
            "amount_yi": _yi(summary.financing_amount),
            "region": region,
            "breadcrumbs": breadcrumbs,
            "show_national_root": base_prefix == "",
            "section": section,
            "section_name": section_names.get(section, ""),
            "institution_id": institution_id,
            "institution_name": long_names.get(institution_id, ""),
            "children": [{"region": r, "count": n, "amount": _yi(a)} for r, n, a in children],
            # A county has no lower level: no 按地区 panel rather than an empty one.
            "has_child_regions": region is None or Region.objects.filter(parent=region).exists(),
            "sections": [
                {"code": s, "name": section_names.get(s, s), "count": n, "amount": _yi(a)}
                for s, n, a in sections
            ],
            "institutions": [
                {
                    "id": i,
                    "name": names.get(i) or long_names.get(i) or _("其他机构"),
                    "count": n,
                    "amount": _yi(a),
                }
                for i, n, a in institutions
            ],
            "months": [{"month": m, "count": c, "amount": _yi(a)} for m, c, a in months[-24:]],
            "trend_chart": trend,
            "region_chart": by_region,
            "section_chart": by_section,
            "plan_rows": plan_rows,
            "refresh_regions": sorted({p["plan"].region.code for p in plan_rows}),
            # ... beside our own
            "received_rows": received_service.latest_rows(request.user, prefix, received),
            "received_regions": received_service.regions_without_own_data(
                request.user,
                prefix,
                received_service.child_nodes(prefix),
                {r.prefix for r, _n, _a in children},
                received,
            ),
            # what higher apps add (risk: financing split by policy group)
            **panel_context("insights.dashboard", user=request.user, region=region),
        },
    )


# --------------------------------------------------------------------------
# catalogue and plans


@login_required
@require_GET
def indicator_list(request):
    """Listed whole, not paged: the fixed catalogue of indicator definitions
    (seeded with the platform, tens of rows), grouped by category."""
    _require_viewer(request.user)
    definitions = IndicatorDefinition.objects.all()
    groups = []
    for category in Category:
        items = [d for d in definitions if d.category == category.value]
        if items:
            groups.append({"category": category.label, "items": items})
    return render(request, "insights/indicator_list.html", {"groups": groups})


@login_required
@require_GET
def plan_list(request):
    _require_viewer(request.user)
    pager = paginate(
        request,
        IndicatorPlan.objects.visible_to(request.user)
        .select_related("region")
        .order_by("region", "-start_year", "pk"),
    )
    return render(
        request,
        "insights/plan_list.html",
        {
            "plans": pager["page_obj"].object_list,
            "pager": pager,
            "can_create": request.user.is_government_user,
        },
    )


class PlanForm(forms.Form):
    region = pickers.PickerField(pickers.REGIONS, label=gettext_lazy("地区"))
    title = forms.CharField(label=gettext_lazy("名称"), max_length=200, validators=[validate_name])
    start_year = forms.IntegerField(label=gettext_lazy("起始年份"), min_value=2000, max_value=2100)
    end_year = forms.IntegerField(label=gettext_lazy("截止年份"), min_value=2000, max_value=2100)


class ImportForm(forms.Form):
    region = pickers.PickerField(pickers.REGIONS, label=gettext_lazy("地区"))
    title = forms.CharField(
        label=gettext_lazy("名称"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("留空则使用表格标题"),
    )
    table = forms.CharField(
        label=gettext_lazy("定量指标表"),
        widget=forms.Textarea(attrs={"rows": 14, "class": "mono"}),
        max_length=100_000,
        help_text=gettext_lazy("从实施方案附件复制整张表格（制表符分隔），含表头"),
    )


def _default_region_code(user) -> str:
    agency = getattr(user, "agency", None)
    return agency.region_id if agency is not None and agency.region_id else ""


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request):
    _require_viewer(request.user)
    initial = {"region": _default_region_code(request.user)}
    form = pickers.bind(
        PlanForm(request.POST if "create" in request.POST else None, initial=initial),
        request.user,
    )
    import_form = pickers.bind(
        ImportForm(
            request.POST if "import" in request.POST else None,
            initial=initial,
            auto_id="import-%s",
        ),
        request.user,
    )
    if request.method == "POST":
        try:
            if "create" in request.POST and form.is_valid():
                plan = services.create_plan(
                    request.user,
                    form.cleaned_data["region"],
                    form.cleaned_data["title"],
                    form.cleaned_data["start_year"],
                    form.cleaned_data["end_year"],
                )
                messages.success(request, _("指标计划已创建，请填写年度目标。"))
                return redirect("insights:plan_targets", pk=plan.pk)
            elif "import" in request.POST and import_form.is_valid():
                plan = services.import_plan_table(
                    request.user,
                    import_form.cleaned_data["region"],
                    import_form.cleaned_data["table"],
                    title=import_form.cleaned_data["title"] or None,
                )
                messages.success(request, _("定量指标表已导入。"))
                return redirect("insights:plan_detail", pk=plan.pk)
        except ValidationFailed as exc:
            _add_errors(form if "create" in request.POST else import_form, exc)
        except NotFound:
            target = form if "create" in request.POST else import_form
            target.add_error("region", _("只能为本辖区制定指标计划"))
        except NotAllowed as exc:
            messages.error(request, exc.message)
    return render(request, "insights/plan_create.html", {"form": form, "import_form": import_form})


def _year_choice(request, plan: IndicatorPlan) -> int:
    this_year = timezone.localdate().year
    default = min(max(this_year, plan.start_year), plan.end_year)
    try:
        year = int(request.GET.get("year") or default)
    except ValueError:
        year = default
    return year if plan.start_year <= year <= plan.end_year else default


@login_required
@require_GET
def plan_detail(request, pk: int):
    plan = _plan_or_404(request.user, pk)
    year = _year_choice(request, plan)
    figures = snapshots.plan_figures(plan, year)
    return render(
        request,
        "insights/plan_detail.html",
        {
            "plan": plan,
            "groups": _groups(services.plan_table(plan)),
            "year": year,
            "completion": figures.rows,
            "figures": figures,
            "refresh_regions": [plan.region.code],
            "status_labels": services.STATUS_LABELS,
            "can_edit": services.can_manage_region(request.user, plan.region),
        },
    )


@login_required
@require_POST
def refresh_figures(request):
    """A government user asks for the kept figures of the plans' regions
    (the `region` codes posted) to be computed again; back to `next`."""
    _require_viewer(request.user)
    codes = [c.strip() for c in request.POST.getlist("region") if c.strip()][:20]
    regions = list(Region.objects.filter(code__in=codes))
    if not regions or len(regions) != len(set(codes)):
        raise Http404
    try:
        with transaction.atomic():
            enqueued = snapshots.request_refresh(request.user, regions)
            for prefix in enqueued:
                enqueue_on_commit(refresh_figure_snapshot, prefix)
    except NotFound:
        raise Http404 from None
    except NotAllowed as exc:
        messages.error(request, exc.message)
    else:
        if enqueued:
            messages.success(request, _("已提交刷新，后台计算完成后页面将显示新数据。"))
        else:
            messages.info(request, _("刷新已在进行中，请稍后查看。"))
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("insights:dashboard")
    return redirect(target)


@login_required
@require_GET
def plan_print(request, pk: int):
    plan = _plan_or_404(request.user, pk)
    return render(
        request,
        "insights/plan_print.html",
        {
            "plan": plan,
            "groups": _groups(services.plan_table(plan)),
            "printed_on": timezone.localdate(),
        },
    )


@login_required
@require_GET
def plan_export(request, pk: int):
    from .exports import plan_xlsx  # openpyxl at use, not in every process's URLconf

    plan = _plan_or_404(request.user, pk)
    response = HttpResponse(
        plan_xlsx(plan),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    filename = f"plan-{plan.pk}-{plan.start_year}-{plan.end_year}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def plan_targets(request, pk: int):
    plan = _plan_or_404(request.user, pk)
    if not services.can_manage_region(request.user, plan.region):
        raise Http404
    definitions = list(IndicatorDefinition.objects.all())
    existing = {(t.definition_id, t.year): t for t in plan.targets.all()}
    errors: list[str] = []
    if request.method == "POST":
        rows = []
        for d in definitions:
            for year in plan.years:
                value = request.POST.get(f"v-{d.pk}-{year}", "")
                second = request.POST.get(f"s-{d.pk}-{year}", "") if d.has_second else ""
                if value.strip() or second.strip() or (d.pk, year) in existing:
                    rows.append(
                        {
                            "definition": d.code,
                            "year": year,
                            "value": value,
                            "second_value": second,
                        }
                    )
        try:
            services.set_targets(request.user, plan, rows)
        except ValidationFailed as exc:
            by_index = {i: r for i, r in enumerate(rows)}
            for e in exc.errors:
                index = e.field.split("]")[0].removeprefix("rows[")
                row = by_index.get(int(index)) if index.isdigit() else None
                label = f"{row['definition']} {row['year']}：" if row else ""
                errors.append(label + e.message)
        else:
            messages.success(request, _("年度目标已保存。"))
            return redirect("insights:plan_detail", pk=plan.pk)
    grid = []
    for d in definitions:
        cells = []
        for year in plan.years:
            t = existing.get((d.pk, year))
            value = request.POST.get(f"v-{d.pk}-{year}") if request.method == "POST" else None
            second = request.POST.get(f"s-{d.pk}-{year}") if request.method == "POST" else None
            cells.append(
                {
                    "year": year,
                    "value": value
                    if value is not None
                    else (services.format_number(t.value, t.value_places) if t else ""),
                    "second": second
                    if second is not None
                    else (services.format_number(t.second_value, t.second_places) if t else ""),
                }
            )
        grid.append({"definition": d, "cells": cells})
    return render(
        request,
        "insights/plan_targets.html",
        {"plan": plan, "grid": grid, "errors": errors},
    )


# --------------------------------------------------------------------------
# reporting actuals


class ActualForm(forms.Form):
    region = pickers.PickerField(pickers.REGIONS, label=gettext_lazy("地区"))
    definition = forms.ModelChoiceField(
        label=gettext_lazy("指标"),
        queryset=IndicatorDefinition.objects.filter(source=""),
    )
    period_type = forms.ChoiceField(label=gettext_lazy("报告期"), choices=PeriodType.choices)
    year = forms.IntegerField(label=gettext_lazy("年份"), min_value=2000, max_value=2100)
    number = forms.IntegerField(
        label=gettext_lazy("期号"),
        min_value=1,
        max_value=12,
        initial=1,
        help_text=gettext_lazy("月度填月份 1–12，季度填 1–4，年度填 1"),
    )
    value = forms.CharField(label=gettext_lazy("数值"), max_length=40)
    second_value = forms.CharField(
        label=gettext_lazy("第二项数值"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("仅“数量及规模”类指标填写；增速由系统计算"),
    )
    source_body = forms.CharField(
        label=gettext_lazy("填报单位/人"),
        max_length=100,
        help_text=gettext_lazy(
            "数值的报送单位或填报人，如“嘉善县统计局 张三”；登录账号另行自动记录"
        ),
    )
    source_document = forms.CharField(
        label=gettext_lazy("依据文件（文号/名称）"),
        max_length=200,
        help_text=gettext_lazy("数值所依据的文件文号或报表名称，如“嘉统〔2024〕3号”"),
    )
    source_date = forms.DateField(
        label=gettext_lazy("报送日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("文件或报表的报送日期，不早于报告期开始、不晚于今天"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def report(request):
    _require_viewer(request.user)
    if not request.user.is_government_user and not request.user.is_platform_admin:
        raise Http404
    today = timezone.localdate()
    initial = {
        "region": _default_region_code(request.user),
        "year": today.year,
        "period_type": PeriodType.MONTH,
        "number": today.month,
    }
    form = pickers.bind(ActualForm(request.POST or None, initial=initial), request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_actual(
                request.user,
                region=form.cleaned_data["region"],
                definition=form.cleaned_data["definition"],
                period_type=form.cleaned_data["period_type"],
                year=form.cleaned_data["year"],
                number=form.cleaned_data["number"],
                value=form.cleaned_data["value"],
                second_value=form.cleaned_data["second_value"],
                source_body=form.cleaned_data["source_body"],
                source_document=form.cleaned_data["source_document"],
                source_date=form.cleaned_data["source_date"],
                require_source=True,
            )
        except ValidationFailed as exc:
            _add_errors(form, exc)
        except NotFound:
            form.add_error("region", _("只能填报本辖区的指标"))
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已填报。"))
            return redirect("insights:report")
    from .models import IndicatorActual

    prefix = services.visible_region_prefix(request.user) or ""
    recent = (
        IndicatorActual.objects.filter(region__code__startswith=prefix)
        .select_related("region", "definition", "reported_by")
        .order_by("-reported_at")[:20]
    )
    return render(
        request,
        "insights/report.html",
        {"form": form, "recent": recent, "measure": SecondKind.MEASURE},
    )
