"""The officials' list of applications (申请审核): every application of the
programmes in the agency's region subtree (`Application.visible_to`),
filtered by programme, state and budget year, with the count in each
state, paginated like the other lists of the platform. The review itself
happens on the application's page."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from ..models import Application, ApplicationState, Programme
from .gov import PAGE_SIZE, government_only

#: The states in which an official has something to do (初审, 复核, 拨付).
TODO_STATES = (ApplicationState.SUBMITTED, ApplicationState.VERIFIED, ApplicationState.APPROVED)


class ReviewFilterForm(forms.Form):
    programme = forms.ChoiceField(label=_("政策"), required=False)
    state = forms.ChoiceField(label=_("状态"), required=False)
    year = forms.ChoiceField(label=_("预算年度"), required=False)

    def __init__(self, *args, programmes, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = [
            ("", _("全部政策")),
            *((str(pk), name) for pk, name in programmes),
        ]
        self.fields["state"].choices = [
            ("", _("全部状态")),
            ("todo", _("待办（待初审、待复核、待拨付）")),
            *ApplicationState.choices,
        ]
        self.fields["year"].choices = [("", _("全部年度")), *((str(y), str(y)) for y in years)]

    def values(self) -> dict[str, str]:
        if self.is_bound and self.is_valid():
            return {k: v for k, v in self.cleaned_data.items() if v}
        return {}

    def filter(self, queryset):
        values = self.values()
        if "programme" in values:
            queryset = queryset.filter(programme_id=int(values["programme"]))
        if values.get("state") == "todo":
            queryset = queryset.filter(state__in=TODO_STATES)
        elif "state" in values:
            queryset = queryset.filter(state=values["state"])
        if "year" in values:
            queryset = queryset.filter(year=int(values["year"]))
        return queryset

    def querystring(self) -> str:
        values = self.values()
        return urlencode(values) + "&" if values else ""


@login_required
@require_GET
def application_list(request):
    government_only(request)
    user = request.user
    visible = Application.objects.visible_to(user)
    programmes = (
        Programme.objects.filter(pk__in=visible.values("programme_id"))
        .order_by("-starts_on", "name")
        .values_list("pk", "name")
    )
    years = sorted(set(visible.values_list("year", flat=True).distinct()), reverse=True)
    form = ReviewFilterForm(request.GET or None, programmes=list(programmes), years=years)
    filtered = form.filter(visible)
    queryset = filtered.select_related(
        "programme", "enterprise", "institution", "loan__institution"
    ).order_by("-created_at", "-pk")
    paginator = Paginator(queryset, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    # Counts per state under the programme / year filters (not the state filter).
    base = form.values()
    counted = visible
    if "programme" in base:
        counted = counted.filter(programme_id=int(base["programme"]))
    if "year" in base:
        counted = counted.filter(year=int(base["year"]))
    counts = dict(counted.values_list("state").annotate(n=Count("pk")).order_by())
    state_links = []
    for value, label in ApplicationState.choices:
        if counts.get(value):
            query = {k: v for k, v in base.items() if k != "state"} | {"state": value}
            state_links.append((value, label, counts[value], urlencode(query)))
    return render(
        request,
        "policy/gov/application_list.html",
        {
            "form": form,
            "page_obj": page_obj,
            "applications": page_obj.object_list,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": form.querystring(),
            "state_links": state_links,
            "selected_state": base.get("state", ""),
            "total": paginator.count,
            "tab": "applications",
        },
    )
