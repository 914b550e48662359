"""The staff side of 公开服务 (login required): government staff and
platform admins keep articles and FAQ entries; the addressed organisation's
staff answer consultations from their queue. Field errors (422) go beside
their controls; a refusal of the actor is a 403; what the user may not see
is a 404 (another institution's question, another region's article)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core import audit
from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from chanrong.core.masking import Kind, mask
from chanrong.core.paging import paginate

from . import permissions, services
from .forms import AnswerForm, ArticleForm, FaqForm, ReassignForm
from .models import Article, Consultation, ConsultationState, Faq
from .services import consultations
from .workflows import CONSULTATION

PAGE_SIZE = 30


def _writer(request) -> None:
    if not permissions.may_write(request.user):
        raise PermissionDenied(_("仅政府部门和平台管理员可维护公开内容"))


def _run(request, call, form=None):
    """(result, 200), or (None, status) with the refusal on the page."""
    try:
        return call(), 200
    except ValidationFailed as exc:
        if form is None:
            messages.error(request, "；".join(e.message for e in exc.errors) or exc.message)
        else:
            form.show_service_errors(exc)
        return None, 422
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    except NotFound:
        raise Http404 from None
    except Conflict as exc:
        messages.error(request, exc.message)
        return None, 409


@login_required
@require_GET
def manage(request):
    _writer(request)
    articles = paginate(
        request,
        Article.objects.managed_by(request.user)
        .select_related("region")
        .order_by("state", "-updated_at", "-pk"),
    )
    faq = paginate(
        request,
        Faq.objects.managed_by(request.user).order_by("category", "position", "pk"),
        param="fpage",
    )
    return render(
        request,
        "content/manage.html",
        {
            "articles": articles["page_obj"].object_list,
            "articles_pager": articles,
            "faq": faq["page_obj"].object_list,
            "faq_pager": faq,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def article_edit(request, pk: int | None = None):
    _writer(request)
    article = None
    if pk is not None:
        try:
            article = services.get_managed_article(request.user, pk)
        except NotFound:
            raise Http404 from None
    initial = (
        {k: getattr(article, k) for k in ("category", "title", "source", "body")} if article else {}
    )
    form = ArticleForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        data = form.posted()
        saved, status = _run(
            request, lambda: services.save_article(request.user, data, article), form
        )
        if saved is not None:
            messages.success(request, _("文章已保存"))
            return redirect("content:article", saved.pk)
    return render(
        request, "content/article_form.html", {"form": form, "article": article}, status=status
    )


@login_required
@require_POST
def article_action(request, pk: int, action: str):
    try:
        article = services.get_managed_article(request.user, pk)
    except NotFound:
        raise Http404 from None
    calls = {"publish": services.publish_article, "withdraw": services.withdraw_article}
    if action not in calls:
        raise Http404
    done, _status = _run(request, lambda: calls[action](request.user, article))
    if done is not None:
        messages.success(request, _("已发布") if action == "publish" else _("已撤回为草稿"))
    return redirect("content:article", pk)


@login_required
@require_http_methods(["GET", "POST"])
def faq_edit(request, pk: int | None = None):
    _writer(request)
    faq = None
    if pk is not None:
        try:
            faq = services.get_managed_faq(request.user, pk)
        except NotFound:
            raise Http404 from None
    initial = (
        {k: getattr(faq, k) for k in ("category", "question", "answer", "position", "published")}
        if faq
        else {"published": True}
    )
    form = FaqForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        data = form.posted()
        saved, status = _run(request, lambda: services.save_faq(request.user, data, faq), form)
        if saved is not None:
            messages.success(request, _("问题已保存"))
            return redirect("content:manage")
    return render(request, "content/faq_form.html", {"form": form, "faq": faq}, status=status)


@login_required
@require_POST
def faq_delete(request, pk: int):
    try:
        faq = services.get_managed_faq(request.user, pk)
    except NotFound:
        raise Http404 from None
    services.delete_faq(request.user, faq)
    messages.success(request, _("问题已删除"))
    return redirect("content:manage")


@login_required
@require_GET
def queue(request):
    if not permissions.may_answer_queue(request.user):
        raise PermissionDenied
    state = request.GET.get("state", ConsultationState.SUBMITTED)
    rows = Consultation.objects.queue_of(request.user).select_related("agency", "institution")
    if state in ConsultationState.values:
        rows = rows.filter(state=state)
    paginator = Paginator(rows.order_by("submitted_at", "pk"), PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "content/queue.html",
        {
            "page_obj": page_obj,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": f"state={state}&",
            "rows": list(page_obj.object_list),
            "state": state,
            "states": ConsultationState.choices,
        },
    )


def _queue_item(request, pk: int) -> Consultation:
    try:
        return consultations.get_in_queue(request.user, pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def consultation(request, pk: int):
    item = _queue_item(request, pk)
    return _consultation_page(request, item, AnswerForm(), None)


def _consultation_page(request, item, answer_form, reassign_form, status=200):
    addressee = permissions.is_addressee(request.user, item)
    show_contact = addressee and request.GET.get("contact") == "1"
    if show_contact:
        audit.record(
            "personal.unmask",
            actor=request.user,
            obj=item,
            changes={"fields": ["asker_name", "asker_phone", "asker_email"]},
        )
    contact = {
        "name": item.asker_name if show_contact else mask(item.asker_name, Kind.NAME),
        "phone": item.asker_phone if show_contact else mask(item.asker_phone, Kind.PHONE),
        "email": item.asker_email if show_contact else mask(item.asker_email, Kind.EMAIL),
    }
    available = {t.name for t in CONSULTATION.available(item, request.user)}
    if reassign_form is None and "reassign" in available:
        reassign_form = ReassignForm(agencies=consultations.reassign_choices(request.user))
    return render(
        request,
        "content/manage_consultation.html",
        {
            "item": item,
            "contact": contact,
            "addressee": addressee,
            "show_contact": show_contact,
            "available": available,
            "answer_form": answer_form,
            "reassign_form": reassign_form,
        },
        status=status,
    )


@login_required
@require_POST
def consultation_action(request, pk: int, action: str):
    item = _queue_item(request, pk)
    user = request.user
    if action == "answer":
        form = AnswerForm(request.POST)
        data = form.posted()
        done, status = _run(request, lambda: consultations.answer(user, item, data), form)
        if done is None and status == 422:
            return _consultation_page(request, item, form, None, status=422)
    elif action == "reassign":
        form = ReassignForm(request.POST, agencies=consultations.reassign_choices(user))
        agency = request.POST.get("agency")
        done, status = _run(request, lambda: consultations.reassign(user, item, agency), form)
        if done is None and status == 422:
            return _consultation_page(request, item, AnswerForm(), form, status=422)
        if done is not None:
            messages.success(request, _("已转办"))
            return redirect("content:queue")
    elif action in ("publish", "unpublish", "close"):
        call = getattr(consultations, action)
        done, _status = _run(request, lambda: call(user, item))
    else:
        raise Http404
    if done is not None:
        messages.success(request, _("已保存"))
    return redirect("content:manage_consultation", pk)
