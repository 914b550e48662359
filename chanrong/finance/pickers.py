"""The institution picker: the directory of institutions (every signed-in user
sees it, `visible_to`), found by a fragment of the name, short name or the
beginning of the USCC, picked by id."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from chanrong.core import pickers

from .models import FinancialInstitution


def institutions_in_scope(user) -> QuerySet:
    return FinancialInstitution.objects.visible_to(user)


def _search(queryset: QuerySet, text: str) -> QuerySet:
    condition = Q(name__icontains=text) | Q(short_name__icontains=text)
    code = pickers.normalise(text)
    if code.isalnum() and code.isascii():
        condition |= Q(uscc__startswith=code)
    return queryset.filter(condition).order_by("name", "pk")


def _id(token: str) -> str | None:
    token = pickers.normalise(token)
    return str(int(token)) if token.isdigit() and len(token) < 10 else None


INSTITUTIONS = pickers.PickerSource(
    name="institutions",
    url_name="finance:pick",
    noun=_("金融机构"),
    scoped=institutions_in_scope,
    search=_search,
    canonical=_id,
    key_field="pk",
    key=lambda i: str(i.pk),
    label=lambda i: i.name,
    detail=lambda i: i.uscc or i.get_kind_display(),
    placeholder=_("输入机构名称搜索"),
    nojs_hint=_("机构编号，多个用逗号分隔"),
)

pick = pickers.search_view(INSTITUTIONS)
