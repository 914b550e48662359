"""重点项目 pages: list with filters, detail, create and edit. Visibility is
`Project.objects.visible_to`; rules are in `services`."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from chanrong.core.errors import NotAllowed, NotFound, ValidationFailed

from . import services
from .forms import ProjectForm
from .models import Enterprise, ListEntry, Project, ProjectClass, ProjectKind, ProjectStage

PAGE_SIZE = 20


class ProjectFilterForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("项目或项目单位名称"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("项目类型"),
        required=False,
        choices=[("", gettext_lazy("全部")), *ProjectKind.choices],
    )
    project_class = forms.ChoiceField(
        label=gettext_lazy("五类项目"),
        required=False,
        choices=[("", gettext_lazy("全部")), *ProjectClass.choices],
    )
    stage = forms.ChoiceField(
        label=gettext_lazy("项目阶段"),
        required=False,
        choices=[("", gettext_lazy("全部")), *ProjectStage.choices],
    )

    def filter(self, queryset):
        if not self.is_bound:
            return queryset
        if not self.is_valid():
            return queryset.none()
        data = self.cleaned_data
        text = " ".join((data.get("q") or "").split())
        if text:
            queryset = queryset.filter(Q(name__icontains=text) | Q(owner__name__icontains=text))
        for key in ("kind", "project_class", "stage"):
            if data.get(key):
                queryset = queryset.filter(**{key: data[key]})
        return queryset

    def querystring(self) -> str:
        if not self.is_bound or not self.is_valid():
            return ""
        params = {k: v for k, v in self.cleaned_data.items() if v}
        return urlencode(params) + "&" if params else ""


def _project_or_404(user, pk: int) -> Project:
    try:
        return services.get_visible_project(user, pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def project_list(request):
    form = ProjectFilterForm(request.GET or None)
    queryset = form.filter(
        Project.objects.visible_to(request.user).select_related("owner", "region")
    )
    paginator = Paginator(queryset.order_by("name", "pk"), PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "registry/project_list.html",
        {
            "form": form,
            "page_obj": page_obj,
            "projects": page_obj.object_list,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": form.querystring(),
            "can_create": services.can_create_project(request.user),
        },
    )


@login_required
@require_GET
def project_detail(request, pk: int):
    project = _project_or_404(request.user, pk)
    entries = (
        ListEntry.objects.visible_to(request.user)
        .filter(project=project)
        .in_force()
        .select_related("version__list__agency")
    )
    return render(
        request,
        "registry/project_detail.html",
        {
            "project": project,
            "owner_visible": Enterprise.objects.visible_to(request.user)
            .filter(pk=project.owner_id)
            .exists(),
            "can_edit": services.can_edit_project(request.user, project),
            "entries": entries,
        },
    )


def _refreshing(request) -> bool:
    return "_refresh" in request.POST


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request):
    if not services.can_create_project(request.user):
        raise PermissionDenied
    owner = None
    if request.GET.get("owner", "").isdigit():
        owner = Enterprise.objects.visible_to(request.user).filter(pk=request.GET["owner"]).first()
    form = ProjectForm(request.POST or None, user=request.user, owner=owner)
    if request.method == "POST" and not _refreshing(request) and form.is_valid():
        try:
            project = services.create_project(request.user, form.service_data())
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        except NotAllowed:
            raise PermissionDenied from None
        else:
            messages.success(request, _("项目已登记：%(name)s") % {"name": project.name})
            return redirect("projects:detail", pk=project.pk)
    return render(request, "registry/project_form.html", {"form": form, "project": None})


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request, pk: int):
    project = _project_or_404(request.user, pk)
    if not services.can_edit_project(request.user, project):
        raise PermissionDenied
    form = ProjectForm(request.POST or None, user=request.user, project=project)
    if request.method == "POST" and not _refreshing(request) and form.is_valid():
        try:
            project = services.update_project(request.user, project, form.service_data())
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        except NotAllowed:
            raise PermissionDenied from None
        else:
            messages.success(request, _("项目信息已保存"))
            return redirect("projects:detail", pk=project.pk)
    return render(request, "registry/project_form.html", {"form": form, "project": project})
