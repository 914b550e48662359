"""绿色融资企业（项目）库 pages: an enterprise applies and follows its
applications; the agency reviews (filter by status, paginated) and drafts
the approved ones into its green list's next version; everyone browses the
published library by category; the catalogue; statistics by category.
Field errors (422) go beside their controls; a refusal of the actor is a
403; what the user may not see is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core.errors import NotFound
from chanrong.core.form_calls import attempt
from chanrong.core.money import format_amount
from chanrong.core.paging import paginate
from chanrong.registry.models import Enterprise, Project

from ..models import CatalogueEdition, CatalogueItem, LibraryApplication, LibraryStatus
from ..services import library as services
from ..services import library_stats as stats
from ..services.catalogue import applicable_items, current_edition, top_categories
from .library_forms import ApplicationForm, NoteForm, ProposeForm, ReasonForm, status_choices


def _application(request, pk: int) -> LibraryApplication:
    try:
        return services.get_visible_application(request.user, pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def applications(request):
    """The enterprise's own applications, or the reviewer's queue."""
    user = request.user
    if not (services.may_apply(user) or user.is_government_user or user.is_platform_admin):
        raise Http404
    status = request.GET.get("status", "")
    queryset = LibraryApplication.objects.visible_to(user).select_related(
        "enterprise", "project", "item", "green_list"
    )
    if status in LibraryStatus.values:
        queryset = queryset.filter(status=status)
    else:
        status = ""
    pager = paginate(request, queryset.order_by("-submitted_at", "-pk"))
    return render(
        request,
        "green/library/applications.html",
        {
            "pager": pager,
            "applications": pager["page_obj"].object_list,
            "status": status,
            "statuses": status_choices(),
            "may_apply": services.may_apply(user),
        },
    )


def _application_form(user, data=None) -> ApplicationForm:
    enterprise = Enterprise.objects.get(pk=user.enterprise_id)
    edition = current_edition()
    items = (
        applicable_items(edition).order_by("sort_key") if edition else CatalogueItem.objects.none()
    )
    return ApplicationForm(
        data,
        lists=services.green_lists_for(enterprise),
        projects=Project.objects.filter(owner=enterprise).order_by("name"),
        items=items,
    )


@login_required
@require_http_methods(["GET", "POST"])
def apply(request):
    user = request.user
    if not services.may_apply(user):
        raise Http404
    form = _application_form(user, request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        application, status = attempt(
            request, lambda: services.apply(user, form.service_data()), form
        )
        if application is not None:
            messages.success(request, _("入库申请已提交，等待审核"))
            return redirect(application)
    elif request.method == "POST":
        status = 422
    return render(
        request,
        "green/library/apply.html",
        {"form": form, "edition": current_edition()},
        status=status,
    )


def _detail(request, application, *, forms=None, status=200):
    user = request.user
    available = services.actions(user, application)
    forms = forms or {}
    if "approve" in available:
        forms.setdefault("approve", NoteForm(prefix="approve"))
    if "reject" in available:
        forms.setdefault("reject", NoteForm(prefix="reject"))
    for name in ("withdraw", "remove"):
        if name in available:
            forms.setdefault(name, ReasonForm(prefix=name))
    return render(
        request,
        "green/library/detail.html",
        {
            "application": application,
            "evidence": application.evidence.all(),
            "forms": forms,
            "in_library": services.in_library(application),
        },
        status=status,
    )


@login_required
@require_GET
def detail(request, pk: int):
    return _detail(request, _application(request, pk))


ACTIONS = {
    "approve": (NoteForm, lambda u, a, d: services.approve(u, a, note=d.get("note", ""))),
    "reject": (NoteForm, lambda u, a, d: services.reject(u, a, note=d.get("note", ""))),
    "withdraw": (ReasonForm, lambda u, a, d: services.withdraw(u, a, reason=d.get("reason", ""))),
    "remove": (ReasonForm, lambda u, a, d: services.remove(u, a, reason=d.get("reason", ""))),
}
DONE = {
    "approve": _("已审核通过；将在编入名单下一版本并发布后入库"),
    "reject": _("已退回该申请"),
    "withdraw": _("已撤回该申请"),
    "remove": _("已移出；名单下一版本将列明移出原因"),
}


@login_required
@require_POST
def action(request, pk: int, name: str):
    application = _application(request, pk)
    if name not in ACTIONS:
        raise Http404
    form_class, call = ACTIONS[name]
    form = form_class(request.POST, prefix=name)
    if not form.is_valid():
        return _detail(request, application, forms={name: form}, status=422)
    done, status = attempt(
        request, lambda: call(request.user, application, form.cleaned_data), form
    )
    if done is not None:
        messages.success(request, DONE[name])
        return redirect(application)
    return _detail(request, _application(request, pk), forms={name: form}, status=status)


@login_required
@require_GET
def publish(request):
    """The reviewer's lists with what their next version must change."""
    lists = list(services.reviewable_lists(request.user))
    if not lists:
        raise Http404
    rows = [(lst, services.compare(lst), services.latest_published_version(lst)) for lst in lists]
    return render(
        request, "green/library/publish.html", {"rows": rows, "propose_form": ProposeForm()}
    )


@login_required
@require_POST
def propose(request, list_pk: int):
    lst = services.reviewable_lists(request.user).filter(pk=list_pk).first()
    if lst is None:
        raise Http404
    form = ProposeForm(request.POST)
    form.is_valid()
    result, _status = attempt(
        request,
        lambda: services.propose_version(request.user, lst, note=form.cleaned_data.get("note", "")),
        form,
    )
    if result is not None:
        version, diff = result
        messages.success(
            request,
            _(
                "已编入%(name)s第 %(n)s 版草稿（新增 %(a)s 个，移出 %(r)s 个）；"
                "请在名单页提交审批，发布后生效"
            )
            % {"name": lst.name, "n": version.number, "a": len(diff.add), "r": len(diff.remove)},
        )
        return redirect("lists:detail", lst.pk)
    for error in form.errors.get("__all__", []) + form.errors.get("note", []):
        messages.error(request, error)
    return redirect("green:library_publish")


@login_required
@require_GET
def browse(request):
    """The published library, by first-level category (every role)."""
    edition = current_edition()
    categories = list(top_categories(edition)) if edition else []
    category = request.GET.get("category", "")
    queryset = LibraryApplication.objects.published_to(request.user).select_related(
        "enterprise", "project", "item", "category", "green_list", "added_in"
    )
    if category and any(c.code == category for c in categories):
        queryset = queryset.filter(category__code=category)
    else:
        category = ""
    pager = paginate(request, queryset.order_by("category__sort_key", "item__sort_key", "pk"))
    return render(
        request,
        "green/library/browse.html",
        {
            "pager": pager,
            "entries": pager["page_obj"].object_list,
            "categories": categories,
            "category": category,
        },
    )


@login_required
@require_GET
def catalogue(request):
    editions = list(CatalogueEdition.objects.all())
    code = request.GET.get("edition", "")
    edition = next((e for e in editions if e.code == code), editions[0] if editions else None)
    items = list(edition.items.order_by("sort_key")) if edition else []
    return render(
        request,
        "green/library/catalogue.html",
        {"editions": editions, "edition": edition, "items": items},
    )


@login_required
@require_GET
def stats_page(request):
    if not stats.may_view_stats(request.user):
        raise Http404
    summary = stats.summarise(request.user)

    def shown(row):
        return {
            "row": row,
            "amount": format_amount(row.amount),
            "accepted": format_amount(row.accepted),
            "granted": format_amount(row.granted),
            "disbursed": format_amount(row.disbursed),
        }

    return render(
        request,
        "green/library/stats.html",
        {
            "rows": [shown(r) for r in summary.rows],
            "by_category": [shown(r) for r in summary.by_category],
            "total": shown(summary.total),
            "chart": stats.chart(summary),
        },
    )
