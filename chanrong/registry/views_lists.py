"""名单 pages: the lists a user may see, each list's versions, a version's
members with its workflow buttons, drafting, comparison and export.

Everything read comes from the lists family's `visible_to`; every change
goes through `services` (the workflow itself through apply_transition).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core import pickers
from chanrong.core.codes import normalise_uscc
from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed

from . import services
from .api_lists import xlsx_response
from .forms import EntryForm, ListForm, PublishForm, ReasonForm, RejectForm, VersionForm
from .models import (
    EnterpriseList,
    EntryChange,
    ListEntry,
    ListType,
    ListVersion,
    Project,
    VersionStatus,
)
from .workflows import is_approver, is_drafter

PAGE_SIZE = 50
ACTIONS = ("submit", "withdraw", "reopen", "reject", "publish", "discard")


def _list_or_404(user, pk: int) -> EnterpriseList:
    try:
        return services.get_visible_list(user, pk)
    except NotFound:
        raise Http404 from None


def _version_or_404(user, pk: int, number: int) -> ListVersion:
    lst = _list_or_404(user, pk)
    try:
        return services.get_visible_version(user, lst, number)
    except NotFound:
        raise Http404 from None


class ListFilterForm(forms.Form):
    list_type = forms.ChoiceField(
        label=gettext_lazy("名单类型"),
        required=False,
        choices=[("", gettext_lazy("全部")), *ListType.choices],
    )
    q = forms.CharField(
        label=gettext_lazy("名单名称"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


@login_required
@require_GET
def list_index(request):
    form = ListFilterForm(request.GET or None)
    # The region column shows the full name: its parents come with the row.
    queryset = EnterpriseList.objects.visible_to(request.user).select_related(
        "agency", "region__parent__parent"
    )
    if form.is_bound and form.is_valid():
        if form.cleaned_data.get("list_type"):
            queryset = queryset.filter(list_type=form.cleaned_data["list_type"])
        text = " ".join((form.cleaned_data.get("q") or "").split())
        if text:
            queryset = queryset.filter(name__icontains=text)
    paginator = Paginator(queryset.order_by("list_type", "name", "pk"), PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    lists = list(page_obj.object_list)
    in_force = {
        v.list_id: v
        for v in ListVersion.objects.in_force()
        .filter(list__in=lists)
        .annotate(members=Count("entries", filter=~Q(entries__change=EntryChange.REMOVED)))
    }
    for lst in lists:
        lst.current = in_force.get(lst.pk)
    params = {
        k: v
        for k, v in (form.cleaned_data if form.is_bound and form.is_valid() else {}).items()
        if v
    }
    return render(
        request,
        "registry/list_index.html",
        {
            "form": form,
            "lists": lists,
            "page_obj": page_obj,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": urlencode(params) + "&" if params else "",
            "can_create": services.can_create_list(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def list_create(request):
    if not services.can_create_list(request.user):
        raise PermissionDenied
    form = ListForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            lst = services.create_list(request.user, form.service_data())
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        except NotAllowed:
            raise PermissionDenied from None
        else:
            messages.success(request, _("名单已建立：%(name)s") % {"name": lst.name})
            return redirect("lists:detail", pk=lst.pk)
    return render(
        request,
        "registry/form_page.html",
        {
            "form": form,
            "title": _("建立名单"),
            "action": request.path,
            "cancel": "/lists/",
            "testid": "list-form",
            "crumbs": [(_("名单"), "lists:index")],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def list_edit(request, pk: int):
    lst = _list_or_404(request.user, pk)
    if not is_drafter(request.user, lst):
        raise PermissionDenied
    form = ListForm(request.POST or None, user=request.user, lst=lst)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_list(request.user, lst, form.service_data())
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("名单信息已保存"))
            return redirect("lists:detail", pk=lst.pk)
    return render(
        request,
        "registry/form_page.html",
        {
            "form": form,
            "title": _("修改名单：%(name)s") % {"name": lst.name},
            "action": request.path,
            "cancel": lst.get_absolute_url(),
            "testid": "list-form",
            "crumbs": [(_("名单"), "lists:index")],
        },
    )


@login_required
@require_GET
def list_detail(request, pk: int):
    lst = _list_or_404(request.user, pk)
    versions = list(
        ListVersion.objects.visible_to(request.user)
        .filter(list=lst)
        .annotate(members=Count("entries", filter=~Q(entries__change=EntryChange.REMOVED)))
        .order_by("-number")
    )
    for version in versions:
        version.in_force_now = version.in_force_on()
    published = [v for v in versions if v.status == VersionStatus.PUBLISHED]
    return render(
        request,
        "registry/list_detail.html",
        {
            "list": lst,
            "versions": versions,
            "published": published,
            "can_draft": is_drafter(request.user, lst),
            "can_approve": is_approver(request.user, lst),
            "has_open": any(v.status != VersionStatus.PUBLISHED for v in versions),
        },
    )


@login_required
@require_POST
def version_create(request, pk: int):
    lst = _list_or_404(request.user, pk)
    try:
        version = services.start_version(request.user, lst, note=request.POST.get("note", ""))
    except NotAllowed:
        raise PermissionDenied from None
    except (Conflict, ValidationFailed) as exc:
        messages.error(request, exc.message)
        return redirect("lists:detail", pk=lst.pk)
    messages.success(request, _("已新建第 %(n)s 版草稿") % {"n": version.number})
    return redirect("lists:version", pk=lst.pk, number=version.number)


def _entries(user, version: ListVersion, query: str):
    queryset = (
        ListEntry.objects.visible_to(user)
        .filter(version=version)
        .select_related("enterprise__region", "project__region")
    )
    text = " ".join((query or "").split())
    if text:
        queryset = queryset.filter(
            Q(enterprise__name__icontains=text)
            | Q(enterprise__uscc=normalise_uscc(text))
            | Q(project__name__icontains=text)
        )
    return queryset.order_by("change", "pk")


def _entry_form(user, version, data=None):
    if "project" in version.list.subjects and "enterprise" not in version.list.subjects:
        projects = Project.objects.visible_to(user).select_related("owner")
        if version.list.region_id:
            projects = projects.filter(region__code__startswith=version.list.region.prefix)
        return EntryForm(data, projects=list(projects.order_by("name")[:1000]))
    return pickers.bind(EntryForm(data), user)


def _version_page(request, version: ListVersion, **forms_):
    user = request.user
    lst = version.list
    query = request.GET.get("q", "")
    paginator = Paginator(_entries(user, version, query), PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    actions = services.version_actions(user, version)
    drafting = version.status == VersionStatus.DRAFT and is_drafter(user, lst)
    previous = (
        ListVersion.objects.visible_to(user)
        .filter(list=lst, number__lt=version.number, status=VersionStatus.PUBLISHED)
        .order_by("-number")
        .first()
    )
    counts = dict(
        ListEntry.objects.visible_to(user)
        .filter(version=version)
        .values_list("change")
        .annotate(n=Count("pk"))
    )
    context = {
        "list": lst,
        "version": version,
        "entries": page_obj.object_list,
        "page_obj": page_obj,
        "page_range": paginator.get_elided_page_range(page_obj.number),
        "querystring_base": urlencode({"q": query}) + "&" if query else "",
        "query": query,
        "actions": actions,
        "drafting": drafting,
        "can_discard": version.status in (VersionStatus.DRAFT, VersionStatus.REJECTED)
        and is_drafter(user, lst),
        "previous": previous,
        "in_force": version.in_force_on(),
        "counts": {
            "members": counts.get(EntryChange.ADDED, 0) + counts.get(EntryChange.KEPT, 0),
            "added": counts.get(EntryChange.ADDED, 0),
            "removed": counts.get(EntryChange.REMOVED, 0),
        },
        "entry_form": forms_.get("entry_form")
        or (_entry_form(user, version) if drafting else None),
        "version_form": forms_.get("version_form")
        or (
            VersionForm(
                initial={
                    "note": version.note,
                    "effective_from": version.effective_from.isoformat()
                    if version.effective_from
                    else "",
                }
            )
            if drafting
            else None
        ),
        "publish_form": forms_.get("publish_form")
        or (
            PublishForm(
                initial={
                    "effective_from": version.effective_from.isoformat()
                    if version.effective_from
                    else ""
                }
            )
            if "publish" in actions
            else None
        ),
        "reject_form": forms_.get("reject_form") or (RejectForm() if "reject" in actions else None),
        "remove_form": ReasonForm() if drafting else None,
    }
    status = 422 if any(forms_.values()) else 200
    return render(request, "registry/version_detail.html", context, status=status)


@login_required
@require_GET
def version_detail(request, pk: int, number: int):
    return _version_page(request, _version_or_404(request.user, pk, number))


@login_required
@require_POST
def version_edit(request, pk: int, number: int):
    version = _version_or_404(request.user, pk, number)
    form = VersionForm(request.POST)
    if form.is_valid():
        try:
            services.update_version(request.user, version, form.service_data())
        except NotAllowed:
            raise PermissionDenied from None
        except Conflict as exc:
            messages.error(request, exc.message)
        except ValidationFailed as exc:
            form.add_service_errors(exc)
            return _version_page(request, version, version_form=form)
        else:
            messages.success(request, _("已保存"))
        return redirect("lists:version", pk=pk, number=number)
    return _version_page(request, version, version_form=form)


@login_required
@require_POST
def entry_add(request, pk: int, number: int):
    version = _version_or_404(request.user, pk, number)
    if not is_drafter(request.user, version.list):
        raise PermissionDenied
    form = _entry_form(request.user, version, request.POST)
    if form.is_valid():
        subject = form.cleaned_data["subject"]
        enterprise = project = None
        if isinstance(form.fields["subject"], forms.ChoiceField):
            project = Project.objects.visible_to(request.user).filter(pk=subject).first()
        else:
            enterprise = subject  # picked within the user's scope by the field
        if enterprise is None and project is None:
            form.add_error("subject", _("项目不存在或不在您的管辖范围内"))
        else:
            try:
                entry = services.add_list_entry(
                    request.user,
                    version,
                    enterprise=enterprise,
                    project=project,
                    reason=form.cleaned_data["reason"],
                )
            except Conflict as exc:
                messages.error(request, exc.message)
                return redirect("lists:version", pk=pk, number=number)
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("已加入：%(name)s") % {"name": entry})
                return redirect("lists:version", pk=pk, number=number)
    return _version_page(request, version, entry_form=form)


@login_required
@require_POST
def entry_remove(request, pk: int, number: int, entry_id: int):
    version = _version_or_404(request.user, pk, number)
    entry = ListEntry.objects.visible_to(request.user).filter(version=version, pk=entry_id).first()
    if entry is None:
        raise Http404
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("移出成员须写明理由"))
        return redirect("lists:version", pk=pk, number=number)
    try:
        services.remove_list_entry(request.user, version, entry, reason=form.cleaned_data["reason"])
    except NotAllowed:
        raise PermissionDenied from None
    except (Conflict, ValidationFailed, NotFound) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已移出：%(name)s") % {"name": entry})
    return redirect("lists:version", pk=pk, number=number)


@login_required
@require_POST
def version_action(request, pk: int, number: int, action: str):
    if action not in ACTIONS:
        raise Http404
    version = _version_or_404(request.user, pk, number)
    user = request.user
    try:
        if action == "publish":
            form = PublishForm(request.POST)
            if not form.is_valid():
                return _version_page(request, version, publish_form=form)
            try:
                services.publish_version(
                    user,
                    version,
                    effective_from=form.cleaned_data["effective_from"],
                    note=form.cleaned_data["note"],
                )
            except ValidationFailed as exc:
                form.add_service_errors(exc)
                return _version_page(request, version, publish_form=form)
            messages.success(request, _("第 %(n)s 版已发布") % {"n": version.number})
        elif action == "reject":
            form = RejectForm(request.POST)
            if not form.is_valid():
                return _version_page(request, version, reject_form=form)
            services.reject_version(user, version, note=form.cleaned_data["note"])
            messages.success(request, _("已退回"))
        elif action == "discard":
            services.discard_version(user, version)
            messages.success(request, _("草稿已删除"))
            return redirect("lists:detail", pk=pk)
        else:
            {
                "submit": services.submit_version,
                "withdraw": services.withdraw_version,
                "reopen": services.reopen_version,
            }[action](user, version)
            messages.success(
                request,
                {
                    "submit": _("已提交审批"),
                    "withdraw": _("已撤回为草稿"),
                    "reopen": _("已重新打开为草稿"),
                }[action],
            )
    except NotAllowed:
        raise PermissionDenied from None
    except (Conflict, ValidationFailed) as exc:
        messages.error(request, exc.message)
    return redirect("lists:version", pk=pk, number=number)


@login_required
@require_GET
def compare(request, pk: int):
    lst = _list_or_404(request.user, pk)
    versions = list(
        ListVersion.objects.visible_to(request.user).filter(list=lst).order_by("-number")
    )
    numbers = [v.number for v in versions]

    def pick(key: str, default: int | None) -> int | None:
        value = request.GET.get(key, "")
        return int(value) if value.isdigit() and int(value) in numbers else default

    b = pick("b", numbers[0] if numbers else None)
    a = pick("a", next((n for n in numbers if b is not None and n < b), None))
    diff = None
    if a is not None and b is not None:
        by_number = {v.number: v for v in versions}
        diff = services.compare_versions(by_number[a], by_number[b], request.user)
        for entry in diff.removed:
            entry.removal_reason = diff.removal_reasons.get(
                (entry.enterprise_id, entry.project_id), ""
            )
    return render(
        request,
        "registry/list_compare.html",
        {"list": lst, "versions": versions, "a": a, "b": b, "diff": diff},
    )


@login_required
@require_GET
def version_export(request, pk: int, number: int):
    version = _version_or_404(request.user, pk, number)
    return xlsx_response(
        services.export_version_xlsx(request.user, version),
        f"{version.list.name}-第{version.number}版.xlsx",
    )
