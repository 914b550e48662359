"""融资知识 articles and FAQ entries: written, published and withdrawn by
government staff of the article's region (an agency's own region) or a
platform admin. Every write is audited; publishing goes through the ARTICLE
table (actor checked, audited, notified).

Bodies are plain text: stored as typed (paragraphs separated by blank
lines) and always rendered escaped, so text such as "利率<4%" reads as
typed and markup never runs."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import Region
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import apply_transition

from .. import permissions as p
from ..models import Article, ArticleCategory, Faq, FaqCategory
from ..workflows import ARTICLE
from . import common as f

ARTICLE_FIELDS = {"category", "title", "body", "source", "region"}
FAQ_FIELDS = {"category", "question", "answer", "position", "published", "region"}
MAX_BODY = 20_000


def _choice(data, key, choices, errors) -> str:
    value = data.get(key)
    if f.blank(value):
        errors.append(FieldError(key, _("必填")))
        return ""
    value = str(value).strip()
    if value not in choices.values:
        errors.append(FieldError(key, _("无效的选项：%(v)s") % {"v": value[:40]}))
        return ""
    return value


def _region(actor, data: dict[str, Any], errors: list[FieldError]) -> Region | None:
    """Government writes for its agency's region; a platform admin may name
    any region (blank: nationwide)."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.GOVERNMENT:
        return actor.agency.region
    value = data.get("region")
    if f.blank(value):
        return None
    region = Region.objects.filter(pk=str(value).strip()).first()
    if region is None:
        errors.append(FieldError("region", _("行政区划不存在")))
    return region


def _check_writer(actor) -> None:
    if not p.may_write(actor):
        raise NotAllowed()


def get_managed_article(actor, pk: int) -> Article:
    found = Article.objects.managed_by(actor).select_related("region", "agency").filter(pk=pk)
    article = found.first()
    if article is None:
        raise NotFound(_("未找到该文章"))
    return article


def save_article(actor, data: dict[str, Any], article: Article | None = None) -> Article:
    """Create a draft (article None) or edit one the actor manages."""
    _check_writer(actor)
    if article is not None and not p.may_edit(actor, article):
        raise NotFound(_("未找到该文章"))
    errors = f.unknown_fields(data, ARTICLE_FIELDS)
    values = {
        "category": _choice(data, "category", ArticleCategory, errors),
        "title": f.text(data, "title", errors, 200, required=True, minimum=2),
        "body": f.text(data, "body", errors, MAX_BODY, required=True, minimum=10, multiline=True),
        "source": f.text(data, "source", errors, 200),
    }
    region = _region(actor, data, errors)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        if article is None:
            article = Article(
                created_by=actor,
                agency=actor.agency if scope_of(actor).kind == ScopeKind.GOVERNMENT else None,
                region=region,
                **values,
            )
            article.save()
            audit.record("content.article.create", actor=actor, obj=article)
        else:
            before = {k: getattr(article, k) for k in values}
            for key, value in values.items():
                setattr(article, key, value)
            if scope_of(actor).kind == ScopeKind.PLATFORM:
                article.region = region
            article.save()
            audit.record(
                "content.article.update",
                actor=actor,
                obj=article,
                changes=audit.diff(
                    {k: v for k, v in before.items() if k != "body"},
                    {k: v for k, v in values.items() if k != "body"},
                ),
            )
    return article


def publish_article(actor, article: Article, *, today: date | None = None) -> Article:
    today = today or timezone.localdate()
    return apply_transition(ARTICLE, article, "publish", actor, changes={"published_on": today})


def withdraw_article(actor, article: Article) -> Article:
    return apply_transition(ARTICLE, article, "withdraw", actor)


def public_articles(
    *, query: str = "", category: str = "", region_prefix: str = ""
) -> QuerySet[Article]:
    """Published articles, newest first, matching the search words (every
    word in the title, body or source), the category and the region (the
    region's own and its ancestors' articles, and nationwide ones)."""
    rows = Article.objects.published().select_related("region", "agency")
    for word in f.search_words(query):
        rows = rows.filter(
            Q(title__icontains=word) | Q(body__icontains=word) | Q(source__icontains=word)
        )
    if category in ArticleCategory.values:
        rows = rows.filter(category=category)
    if region_prefix:
        rows = rows.filter(Q(region__isnull=True) | Q(region__code__startswith=region_prefix))
    return rows.order_by("-published_on", "-pk")


# --- FAQ --------------------------------------------------------------------------------


def get_managed_faq(actor, pk: int) -> Faq:
    faq = Faq.objects.managed_by(actor).filter(pk=pk).first()
    if faq is None:
        raise NotFound(_("未找到该问题"))
    return faq


def save_faq(actor, data: dict[str, Any], faq: Faq | None = None) -> Faq:
    _check_writer(actor)
    if faq is not None and not p.may_edit(actor, faq):
        raise NotFound(_("未找到该问题"))
    errors = f.unknown_fields(data, FAQ_FIELDS)
    values: dict[str, Any] = {
        "category": _choice(data, "category", FaqCategory, errors),
        "question": f.text(data, "question", errors, 300, required=True, minimum=4),
        "answer": f.text(data, "answer", errors, 5000, required=True, minimum=4, multiline=True),
        "published": f.flag(data, "published"),
    }
    position = data.get("position")
    try:
        values["position"] = 100 if f.blank(position) else int(str(position).strip())
        if not 0 <= values["position"] <= 100_000:
            raise ValueError
    except ValueError:
        errors.append(FieldError("position", _("排序应为 0 至 100000 的整数")))
    region = _region(actor, data, errors)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        if faq is None:
            faq = Faq.objects.create(created_by=actor, region=region, **values)
            audit.record("content.faq.create", actor=actor, obj=faq)
        else:
            before = {k: getattr(faq, k) for k in values}
            for key, value in values.items():
                setattr(faq, key, value)
            faq.save()
            audit.record(
                "content.faq.update", actor=actor, obj=faq, changes=audit.diff(before, values)
            )
    return faq


def delete_faq(actor, faq: Faq) -> None:
    if not p.may_edit(actor, faq):
        raise NotFound(_("未找到该问题"))
    with transaction.atomic():
        audit.record("content.faq.delete", actor=actor, obj=faq)
        faq.delete()


def public_faq() -> QuerySet[Faq]:
    return Faq.objects.published().order_by("category", "position", "pk")


def faq_by_category(rows) -> list[tuple[str, list[Faq]]]:
    """(category label, entries) in the categories' declared order."""
    grouped: dict[str, list[Faq]] = {}
    for row in rows:
        grouped.setdefault(row.category, []).append(row)
    return [(label, grouped[value]) for value, label in FaqCategory.choices if value in grouped]
