"""Indicator definitions: which computed sources an indicator reads, and the
one rule that keeps 时点 figures honest — a level is never added up over
time.

- An indicator is **computed** when its source and every added source are
  registered (insights.sources); until then it is reported (填报), so an
  indicator whose app is not installed still works as a typed-in figure.
- `check_definition` refuses a definition that would add a 时点 figure over
  time: a 时期 indicator reading a source declared "stock", a 时点 indicator
  reading a "period" source (its value would be a flow called a level),
  sources of mixed kinds or units added together, or a rate (%) adding
  several sources. Errors name the field.
- `figures.aggregate_over_time` is the one entry for "this indicator over a span":
  a 时期 indicator is summed over the span; a 时点 indicator can only be
  taken at the span's end — asking for its sum is refused with the field
  named (the API answers 422).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotAllowed, ValidationFailed

from ..models import IndicatorDefinition, Kind, SecondKind
from ..sources import get_source


def source_keys(definition) -> list[str]:
    return [k for k in [definition.source, *(definition.added_sources or [])] if k]


def is_computed(definition) -> bool:
    return definition.computed


def has_computed_second(definition) -> bool:
    return bool(definition.second_source) and get_source(definition.second_source) is not None


def check_definition(
    *,
    kind: str,
    unit: str,
    source: str = "",
    added_sources: list[str] | tuple[str, ...] = (),
    second_source: str = "",
    second_kind: str = SecondKind.NONE,
) -> None:
    """Raise ValidationFailed (by field) for a definition that would add a
    时点 figure over time or add things that do not add up."""
    errors: list[FieldError] = []
    if kind not in Kind.values:
        raise ValidationFailed({"kind": _("指标类型应为时期指标或时点指标")})
    if added_sources and not source:
        errors.append(FieldError("source", _("相加的来源需要一个主来源")))
    if unit == "%" and added_sources:
        errors.append(FieldError("added_sources", _("比率指标不能由多个来源相加")))
    if second_source and second_kind != SecondKind.MEASURE:
        errors.append(FieldError("second_source", _("只有“两项数值”类指标有第二数值来源")))
    main = get_source(source) if source else None
    for field, keys in (
        ("source", [source] if source else []),
        ("added_sources", list(added_sources)),
        ("second_source", [second_source] if second_source else []),
    ):
        for key in keys:
            registered = get_source(key)
            if registered is None or registered.kind is None:
                continue
            if kind == Kind.PERIOD and registered.kind == "stock":
                errors.append(
                    FieldError(
                        field,
                        _("%(key)s 是时点数，不能在时期指标中跨期累加") % {"key": key},
                    )
                )
            elif kind == Kind.STOCK and registered.kind == "period":
                errors.append(
                    FieldError(
                        field,
                        _("%(key)s 是时期数（流量），不能作为时点指标的期末值") % {"key": key},
                    )
                )
            if field == "added_sources" and main is not None and registered.money != main.money:
                errors.append(FieldError(field, _("相加的来源单位不一致：%(key)s") % {"key": key}))
    if errors:
        raise ValidationFailed(errors)


def set_sources(
    actor,
    definition: IndicatorDefinition,
    *,
    source: str,
    added_sources: list[str] | None = None,
    second_source: str = "",
    text: str | None = None,
) -> IndicatorDefinition:
    """Change which sources an indicator reads (platform admins only), checked
    by `check_definition` first; audited."""
    if not getattr(actor, "is_platform_admin", False):
        raise NotAllowed(_("只有平台管理员可以修改指标口径"))
    added = list(added_sources or [])
    check_definition(
        kind=definition.kind,
        unit=definition.unit,
        source=source,
        added_sources=added,
        second_source=second_source,
        second_kind=definition.second_kind,
    )
    before = {
        "source": definition.source,
        "added_sources": definition.added_sources,
        "second_source": definition.second_source,
    }
    with transaction.atomic():
        definition.source = source
        definition.added_sources = added
        definition.second_source = second_source
        if text is not None:
            definition.definition = text.strip()
        definition.save()
        audit.record(
            "insights.definition.sources",
            actor=actor,
            obj=definition,
            changes=audit.diff(
                before,
                {"source": source, "added_sources": added, "second_source": second_source},
            ),
        )
    return definition
