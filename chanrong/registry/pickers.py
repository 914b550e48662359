"""The enterprise picker: enterprises this user may see (`visible_to`), found
by a fragment of the name or the beginning of the USCC (registry.search, the
list page's own search and indexes), picked by USCC."""

from __future__ import annotations

import re

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from chanrong.core import pickers
from chanrong.core.codes import normalise_uscc

from .models import Enterprise
from .search import order_by_name
from .search import search as search_names

USCC = re.compile(r"[0-9A-Z]{18}")


def enterprises_in_scope(user) -> QuerySet:
    return Enterprise.objects.visible_to(user)


def _search(queryset: QuerySet, text: str) -> QuerySet:
    return order_by_name(search_names(queryset, text), text_search=True)


def _uscc(token: str) -> str | None:
    code = normalise_uscc(token)
    return code if USCC.fullmatch(code) else None


ENTERPRISES = pickers.PickerSource(
    name="enterprises",
    url_name="registry:pick",
    noun=_("企业"),
    scoped=enterprises_in_scope,
    search=_search,
    canonical=_uscc,
    key_field="uscc",
    key=lambda e: e.uscc,
    label=lambda e: e.name,
    detail=lambda e: e.uscc,
    placeholder=_("输入企业名称或统一社会信用代码搜索"),
    nojs_hint=_("统一社会信用代码，多个用逗号分隔"),
)

pick = pickers.search_view(ENTERPRISES)
