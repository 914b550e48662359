"""The public side's pages, no login: the landing page (/public/), 融资知识
(list with search and pagination, detail), FAQ, 留言咨询 (the form and its
confirmation) and the answered-questions list. Views translate HTTP to
the services and back; lists start from the models' `published()` /
`visible_to`."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from chanrong.accounts.models import GovernmentAgency
from chanrong.core.context import client_ip
from chanrong.core.errors import NotFound, ValidationFailed
from chanrong.core.models import Region
from chanrong.core.scope import ScopeKind, scope_of

from . import permissions, services
from .forms import ArticleSearchForm, ConsultationForm
from .models import Article, Consultation
from .services import consultations

PAGE_SIZE = 20
ASKED_SESSION_KEY = "content_asked"


def region_choices() -> list[tuple[str, str]]:
    """Provinces and cities that have an agency on the platform: the filter."""
    codes = set(GovernmentAgency.objects.exclude(region=None).values_list("region_id", flat=True))
    rows = Region.objects.filter(pk__in=codes).order_by("code")
    return [(r.code, r.name) for r in rows]


def _page(request, rows):
    paginator = Paginator(rows, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "page_obj": page_obj,
        "page_range": paginator.get_elided_page_range(page_obj.number),
        "querystring_base": (query.urlencode() + "&") if query else "",
    }


@require_GET
def landing(request):
    return render(
        request,
        "content/landing.html",
        {
            "regions": region_choices(),
            "articles": list(services.public_articles()[:6]),
            "faq": list(services.public_faq()[:5]),
            "answers": [consultations.public_view(c) for c in consultations.public_answers()[:3]],
        },
    )


@require_GET
def article_list(request):
    form = ArticleSearchForm(request.GET or None, regions=region_choices())
    chosen = form.values()
    region = Region.objects.filter(pk=chosen["region"]).first() if chosen["region"] else None
    rows = services.public_articles(
        query=chosen["q"],
        category=chosen["category"],
        region_prefix=region.prefix if region else "",
    )
    context = {"form": form, **_page(request, rows)}
    context["articles"] = list(context["page_obj"].object_list)
    return render(request, "content/article_list.html", context)


@require_GET
def article_detail(request, pk: int):
    article = get_object_or_404(
        Article.objects.visible_to(request.user).select_related("region", "agency"), pk=pk
    )
    return render(
        request,
        "content/article_detail.html",
        {"article": article, "can_edit": permissions.may_edit(request.user, article)},
    )


@require_GET
def faq(request):
    """Listed whole, not paged: the published FAQ is a short curated list grouped
    by category (editors page through every entry in content:manage)."""
    return render(
        request,
        "content/faq.html",
        {"groups": services.faq_by_category(services.public_faq())},
    )


@require_http_methods(["GET", "POST"])
def ask(request):
    signed_in = scope_of(request.user).kind != ScopeKind.NONE
    initial = {"addressee": request.GET.get("to", "platform")}
    form = ConsultationForm(
        request.POST or None,
        initial=initial,
        addressees=consultations.addressee_choices(),
        signed_in=signed_in,
    )
    status = 200
    if request.method == "POST":
        try:
            created = consultations.submit(request.user, form.posted(), ip=client_ip(request))
        except ValidationFailed as exc:
            form.show_service_errors(exc)
            status = exc.status
        else:
            request.session[ASKED_SESSION_KEY] = created.pk
            return redirect("content:asked")
    return render(
        request, "content/ask.html", {"form": form, "signed_in": signed_in}, status=status
    )


@require_GET
def asked(request):
    """The confirmation after a question: its number, once, for this browser."""
    pk = request.session.get(ASKED_SESSION_KEY)
    if not pk:
        return redirect("content:ask")
    return render(request, "content/asked.html", {"number": pk})


@require_GET
def answers(request):
    query = (request.GET.get("q") or "").strip()[:50]
    context = _page(request, consultations.public_answers(query=query))
    context["answers"] = [consultations.public_view(c) for c in context["page_obj"].object_list]
    context["q"] = query
    return render(request, "content/answers.html", context)


@require_GET
def consultation(request, pk: int):
    """One consultation: the public view when published; the addressee's
    staff get the answering page (views_manage), the asker their own."""
    try:
        found = consultations.get_visible(request.user, pk)
    except NotFound:
        raise Http404 from None
    if Consultation.objects.queue_of(request.user).filter(pk=pk).exists():
        return redirect(reverse("content:manage_consultation", args=[pk]))
    own = found.asker_user_id is not None and found.asker_user_id == request.user.pk
    return render(
        request,
        "content/consultation.html",
        {"item": consultations.public_view(found), "consultation": found, "own": own},
    )
