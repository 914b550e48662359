"""The 定量指标统计表 with actuals beside targets (xlsx), and computed
against reported figures for a plan's region and year (page and form)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from chanrong.core import audit
from chanrong.core.errors import NotFound, ServiceError, ValidationFailed

from . import services
from .models import IndicatorDefinition
from .views import _add_errors, _plan_or_404, _year_choice


@login_required
@require_GET
def plan_statistics_export(request, pk: int):
    from .exports import statistics_xlsx  # openpyxl at use, not in every process's URLconf

    plan = _plan_or_404(request.user, pk)
    content = statistics_xlsx(plan)
    audit.record(
        "insights.plan.export_statistics",
        actor=request.user,
        obj=plan,
        changes={"years": [plan.start_year, plan.end_year]},
    )
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    filename = f"statistics-{plan.pk}-{plan.start_year}-{plan.end_year}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ComparisonForm(forms.Form):
    definition = forms.ModelChoiceField(
        label=gettext_lazy("指标"), queryset=IndicatorDefinition.objects.all(), to_field_name="code"
    )
    value = forms.CharField(label=gettext_lazy("填报值"), max_length=40)
    source_body = forms.CharField(label=gettext_lazy("报送单位"), max_length=100)
    source_document = forms.CharField(
        label=gettext_lazy("依据文件（文号）"), max_length=200, required=False
    )
    source_date = forms.DateField(label=gettext_lazy("文件日期"), required=False)
    note = forms.CharField(
        label=gettext_lazy("差异说明"), max_length=2000, required=False, widget=forms.Textarea
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_comparison(request, pk: int):
    plan = _plan_or_404(request.user, pk)
    year = _year_choice(request, plan)
    can_edit = services.can_manage_region(request.user, plan.region)
    form = ComparisonForm(request.POST or None)
    computed_codes = [d.code for d in IndicatorDefinition.objects.all() if services.is_computed(d)]
    form.fields["definition"].queryset = IndicatorDefinition.objects.filter(code__in=computed_codes)
    if request.method == "POST" and can_edit and form.is_valid():
        try:
            services.record_comparison(
                request.user,
                region=plan.region,
                definition=form.cleaned_data["definition"],
                year=year,
                value=form.cleaned_data["value"],
                source_body=form.cleaned_data["source_body"],
                source_document=form.cleaned_data["source_document"],
                source_date=form.cleaned_data["source_date"],
                note=form.cleaned_data["note"],
            )
        except ValidationFailed as exc:
            _add_errors(form, exc)
        except NotFound:
            form.add_error(None, _("只能填报本辖区的指标"))
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已记录填报值与差异说明。"))
            return redirect(f"{request.path}?year={year}")
    return render(
        request,
        "insights/plan_comparison.html",
        {
            "plan": plan,
            "year": year,
            "rows": services.comparisons(plan.region, year),
            "form": form,
            "can_edit": can_edit,
        },
    )
