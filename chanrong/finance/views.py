"""Institution pages: the directory every signed-in user may read."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from chanrong.core.models import Region

from .models import FinancialInstitution, InstitutionKind

PAGE_SIZE = 20

KIND_LABELS = {
    InstitutionKind.BANK: _("银行"),
    InstitutionKind.GUARANTEE: _("融资担保"),
    InstitutionKind.INSURER: _("保险"),
    InstitutionKind.LEASING: _("融资租赁"),
    InstitutionKind.SECURITIES: _("证券"),
    InstitutionKind.FUND: _("基金"),
    InstitutionKind.MICRO_LOAN: _("小额贷款"),
    InstitutionKind.OTHER: _("其他"),
}


class InstitutionFilterForm(forms.Form):
    q = forms.CharField(
        label=_("机构名称"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(
        label=_("机构类型"),
        required=False,
        choices=[("", _("全部")), *KIND_LABELS.items()],
    )
    # Set by the dashboard's 入驻金融机构数 link: institutions based in the
    # region or with a branch there (FinancialInstitution.objects.present_in).
    region = forms.RegexField(regex=r"^\d{6}$", required=False, widget=forms.HiddenInput)

    def filter(self, queryset):
        if not self.is_bound:
            return queryset
        if not self.is_valid():
            return queryset.none()
        text = " ".join((self.cleaned_data.get("q") or "").split())
        if text:
            queryset = queryset.filter(Q(name__icontains=text) | Q(short_name__icontains=text))
        if self.cleaned_data.get("kind"):
            queryset = queryset.filter(kind=self.cleaned_data["kind"])
        if self.cleaned_data.get("region"):
            region = Region.objects.filter(code=self.cleaned_data["region"]).first()
            queryset = queryset.present_in(region.prefix) if region else queryset.none()
        return queryset

    def querystring(self) -> str:
        if not self.is_bound or not self.is_valid():
            return ""
        params = {k: v for k, v in self.cleaned_data.items() if v}
        return urlencode(params) + "&" if params else ""


@login_required
@require_GET
def institution_list(request):
    form = InstitutionFilterForm(request.GET or None)
    queryset = form.filter(
        FinancialInstitution.objects.visible_to(request.user)
        .select_related("region__parent__parent")
        .annotate(branch_count=Count("branches"))
        .order_by("name", "pk")
    )
    paginator = Paginator(queryset, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    for institution in page_obj.object_list:
        institution.kind_label = KIND_LABELS.get(institution.kind, institution.kind)
    return render(
        request,
        "finance/institution_list.html",
        {
            "form": form,
            "page_obj": page_obj,
            "institutions": page_obj.object_list,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": form.querystring(),
        },
    )
