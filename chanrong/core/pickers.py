"""Search-as-you-type pickers: one form field and widget for every "pick an
enterprise / a region / an institution" control, and the search behind them.

A `PickerSource` says how one model family is picked: which rows a user may
pick (its `scoped(user)`, built on the family's `visible_to`), how a text is
searched, and the key a picked row travels as (a USCC, a region code, an
institution's id). Sources live in the app that owns the model (registry:
enterprises, finance: institutions, here: regions); each app serves its own
search view made by `search_view(source)`.

The widget renders a plain text input of keys (several separated by commas)
and the picked rows as a read-only list: that is the whole control without
JavaScript, and the server accepts it. `static/chanrong/picker.js` turns it
into a search box (htmx asks the source's search view for the fragment of
matches) with the picked rows as removable chips, each carrying its key in a
hidden input of the same name.

The field never trusts the client: every key is looked up again in the
source's scope for this user; a key outside it is refused by field, and a
name typed without picking from the list is refused with "请从列表中选择…".
The search answers the first `LIMIT` matches and says how many more there
are ("还有 N 条，请输入更多字"); the count stops at `COUNT_CAP` and says so.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from .models import Region
from .scope import ScopeKind, scope_of

LIMIT = 20
COUNT_CAP = 10_000
MAX_QUERY = 60
# What separates several keys typed into the plain text input.
SEPARATORS = re.compile(r"[\s,，、;；]+")


@dataclass(frozen=True)
class Chip:
    key: str
    label: str
    detail: str


@dataclass(frozen=True)
class PickerSource:
    """How one model family is picked."""

    name: str  # "enterprises": the data-source attribute, the test hook
    url_name: str  # its search view
    noun: str | Promise  # "企业", in "请从列表中选择企业"
    scoped: Callable[[Any], QuerySet]  # the rows this user may pick
    search: Callable[[QuerySet, str], QuerySet]  # matches for a text, in display order
    canonical: Callable[[str], str | None]  # a typed key in canonical form; None: a name
    key_field: str  # the model field the canonical key is looked up in
    key: Callable[[Model], str]
    label: Callable[[Model], str]
    detail: Callable[[Model], str]
    placeholder: str | Promise = ""  # the search box's hint
    nojs_hint: str | Promise = ""  # the plain input's hint (keys, comma separated)
    related: tuple[str, ...] = field(default=())  # select_related for labels

    def chip(self, obj: Model) -> Chip:
        return Chip(self.key(obj), self.label(obj), self.detail(obj))

    def resolve(self, user, tokens: Iterable[str]) -> tuple[dict[str, Model], list[str]]:
        """{token: row} for the tokens that are keys of rows this user may
        pick, and the tokens that are not keys at all (names typed)."""
        keys: dict[str, str] = {}
        names: list[str] = []
        for token in tokens:
            key = self.canonical(token)
            if key is None:
                names.append(token)
            else:
                keys[token] = key
        found: dict[str, Model] = {}
        if keys:
            rows = self.scoped(user).filter(**{f"{self.key_field}__in": set(keys.values())})
            by_key = {self.key(row): row for row in with_related(rows, self.related)}
            found = {t: by_key[k] for t, k in keys.items() if k in by_key}
        return found, names


def with_related(queryset: QuerySet, related: tuple[str, ...]) -> QuerySet:
    return queryset.select_related(*related) if related else queryset


def normalise(text: str | None) -> str:
    """NFKC (full-width to half-width), upper case, no surrounding blanks."""
    return unicodedata.normalize("NFKC", text or "").strip().upper()


def split_tokens(values: Iterable[str]) -> list[str]:
    """The keys in the submitted values (chips' hidden inputs and the text
    input), each once, in order."""
    seen: dict[str, None] = {}
    for value in values:
        for token in SEPARATORS.split(unicodedata.normalize("NFKC", value or "")):
            if token:
                seen.setdefault(token, None)
    return list(seen)


# --- the search ---------------------------------------------------------------------


@dataclass
class Results:
    chips: list[Chip]
    more: int  # matches beyond the chips shown
    capped: bool  # the count stopped at COUNT_CAP: "more than" `more`


def search(source: PickerSource, user, text: str) -> Results:
    text = " ".join(unicodedata.normalize("NFKC", text or "").split())[:MAX_QUERY]
    if not text:
        return Results([], 0, False)
    matches = source.search(source.scoped(user), text)
    chips = [source.chip(row) for row in with_related(matches, source.related)[:LIMIT]]
    more, capped = 0, False
    if len(chips) == LIMIT:
        total = matches.order_by().values("pk")[:COUNT_CAP].count()
        more, capped = total - LIMIT, total >= COUNT_CAP
    return Results(chips, more, capped)


def search_view(source: PickerSource) -> Callable[[HttpRequest], HttpResponse]:
    """The htmx fragment of matches for `?q=` (or for the parameter named by
    `?field=`, which is how the widget's own input sends its text)."""

    @login_required
    @require_GET
    def view(request: HttpRequest) -> HttpResponse:
        name = request.GET.get("field", "")
        text = request.GET.get("q") or (request.GET.get(name, "") if name else "")
        results = search(source, request.user, text)
        return render(
            request,
            "core/picker/results.html",
            {
                "results": results,
                "source": source,
                "text": text.strip(),
                "listbox": (request.GET.get("listbox") or "picker")[:80],
            },
        )

    view.__name__ = f"pick_{source.name}"
    return view


# --- the widget and the field -------------------------------------------------------


class PickerWidget(forms.Widget):
    template_name = "core/picker/widget.html"

    def __init__(self, source: PickerSource, *, multiple: bool = False, attrs=None):
        super().__init__(attrs)
        self.source = source
        self.multiple = multiple
        self.user = None  # set by PickerField.bind

    def value_from_datadict(self, data, files, name):
        getter = getattr(data, "getlist", None)
        values = getter(name) if getter else data.get(name, "")
        if not isinstance(values, (list, tuple)):
            values = [values]
        return split_tokens(str(v) for v in values if isinstance(v, (str, int)))

    def value_omitted_from_data(self, data, files, name):
        return name not in data

    def format_value(self, value) -> list:
        if value is None or value == "":
            return []
        if isinstance(value, (Model, str)):
            value = [value]
        out: list = []
        for item in value:
            out.extend(split_tokens([item]) if isinstance(item, str) else [item])
        return out

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        items = context["widget"]["value"]
        tokens = [str(item) for item in items if not isinstance(item, Model)]
        found, _names = self.source.resolve(self.user, tokens) if tokens else ({}, [])
        chips: list[Chip] = []
        leftover: list[str] = []
        for item in items:
            row = item if isinstance(item, Model) else found.get(str(item))
            if row is None:
                leftover.append(str(item))
            elif all(c.key != self.source.key(row) for c in chips):
                chips.append(self.source.chip(row))
        widget = context["widget"]
        widget.update(
            chips=chips,
            text=", ".join([c.key for c in chips] + leftover),
            leftover=" ".join(leftover),
            multiple=self.multiple,
            source=self.source,
            search_url=f"{reverse(self.source.url_name)}?field={name}",
            placeholder=self.source.placeholder,
            nojs_hint=self.source.nojs_hint,
        )
        return context

    def id_for_label(self, id_):
        return id_

    def use_required_attribute(self, initial) -> bool:
        # The search box is empty once a row is picked: "required" is the
        # server's to check, not the browser's.
        return False


class PickerField(forms.Field):
    """A picked row (or, with `multiple`, a list of rows) of `source`, checked
    against the rows the bound user may pick. Call `bind(form, user)` in the
    view before validating or rendering: an unbound field may pick nothing."""

    def __init__(
        self, source: PickerSource, *, multiple: bool = False, keys: bool = False, **kwargs
    ):
        self.source = source
        self.multiple = multiple
        # keys: clean to the picked rows' keys (for forms whose service reads
        # codes), still checked against the user's scope here.
        self.keys = keys
        self.user = None
        kwargs.setdefault("widget", PickerWidget(source, multiple=multiple))
        super().__init__(**kwargs)

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result.user = None
        return result

    def clean(self, value):
        tokens = value if isinstance(value, list) else split_tokens([value or ""])
        if not tokens:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return [] if self.multiple else ("" if self.keys else None)
        found, names = self.source.resolve(self.user, tokens)
        errors: list[forms.ValidationError] = []
        if names:
            errors.append(
                forms.ValidationError(
                    _(
                        "请从列表中选择%(noun)s：“%(text)s”不是可识别的代码，请输入名称后在下拉列表中点选"
                    )
                    % {"noun": self.source.noun, "text": "".join(names)[:40]},
                    code="not_picked",
                )
            )
        missing = [t for t in tokens if t not in names and t not in found]
        if missing:
            errors.append(
                forms.ValidationError(
                    _("%(noun)s不存在或不在您的管辖范围内：%(keys)s")
                    % {"noun": self.source.noun, "keys": "、".join(m[:20] for m in missing[:5])},
                    code="out_of_scope",
                )
            )
        rows: list[Model] = []
        for token in tokens:
            row = found.get(token)
            if row is not None and all(r.pk != row.pk for r in rows):
                rows.append(row)
        if not self.multiple and len(rows) > 1:
            errors.append(
                forms.ValidationError(
                    _("只能选择一个%(noun)s") % {"noun": self.source.noun}, code="one"
                )
            )
        if errors:
            raise forms.ValidationError(errors)
        self.run_validators(rows)
        picked: list = [self.source.key(row) for row in rows] if self.keys else rows
        return picked if self.multiple else picked[0]

    def has_changed(self, initial, data) -> bool:
        return bool(data)


def bind(form: forms.BaseForm, user) -> forms.BaseForm:
    """Give every picker of `form` the user whose scope it picks from."""
    for form_field in form.fields.values():
        if isinstance(form_field, PickerField):
            form_field.user = user
            form_field.widget.user = user
    return form


# --- regions (the kernel's own reference data) --------------------------------------


def regions_in_scope(user) -> QuerySet:
    """The regions a user may pick: government its region's subtree, anyone
    signed in (platform, enterprise, institution) every region — they are
    public reference data — and nobody else any."""
    scope = scope_of(user)
    if scope.kind == ScopeKind.NONE:
        return Region.objects.none()
    if scope.kind == ScopeKind.GOVERNMENT and scope.region_prefix:
        return Region.objects.filter(code__startswith=scope.region_prefix)
    return Region.objects.all()


def _search_regions(queryset: QuerySet, text: str) -> QuerySet:
    condition = Q(name__icontains=text)
    if text.isdigit():
        condition |= Q(code__startswith=text)
    return queryset.filter(condition).order_by("code")


def _region_key(token: str) -> str | None:
    token = normalise(token)
    return token if re.fullmatch(r"\d{6}", token) else None


REGIONS = PickerSource(
    name="regions",
    url_name="core:pick_regions",
    noun=gettext_lazy("地区"),
    scoped=regions_in_scope,
    search=_search_regions,
    canonical=_region_key,
    key_field="code",
    key=lambda r: r.code,
    label=lambda r: r.full_name,
    detail=lambda r: r.code,
    placeholder=gettext_lazy("输入地区名称搜索，如 嘉善"),
    nojs_hint=gettext_lazy("6 位行政区划代码，如嘉善县 330421"),
    related=("parent__parent",),
)

pick_regions = search_view(REGIONS)
