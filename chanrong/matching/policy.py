"""Policy weights of the matching score, per region: read (the weights in
force for a region) and write (a government sets them for its region).

The weights in force for a region are those of the nearest region above it,
itself included, that has a `PolicyWeights` row: the longest region prefix
its code starts with (a region's subtree is `code LIKE prefix%`, so "prefix
of the code" and "ancestor" are the same thing). No row anywhere ⇒ every
weight is `DEFAULT_WEIGHT` and the source region is "".
"""

from __future__ import annotations

import math
import threading
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connections, router, transaction
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotAllowed, ValidationFailed
from chanrong.core.models import Region
from chanrong.core.scope import ScopeKind, scope_of

from .models import MAX_WEIGHT, MIN_WEIGHT, POLICY_KEYS, PolicyWeights, default_weights


def policy_labels() -> dict[str, str]:
    """Chinese label of each policy criterion, in display order."""
    return {
        "white_list": _("白名单"),
        "specialised": _("专精特新"),
        "tech": _("科创"),
        "green": _("绿色"),
    }


def complete_weights(weights: Any) -> dict[str, float]:
    """A stored weights object with every key present, as floats."""
    result = default_weights()
    if isinstance(weights, dict):
        for key in POLICY_KEYS:
            value = weights.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                result[key] = float(value)
    return result


def _candidate_prefixes(region_code: str) -> list[str]:
    code = (region_code or "").strip()
    return [code[:n] for n in range(1, len(code) + 1)]


def _resolve_rows(rows, region_code: str) -> tuple[dict[str, float], str]:
    """Of `rows` (region prefix, region code, stored weights), the weights in
    force for `region_code`: the longest prefix the code starts with (the
    nearest region); equal prefixes are not expected, but would resolve to
    the lower code, never to query order."""
    prefixes = set(_candidate_prefixes(region_code))
    ranked = sorted(
        (row for row in rows if row[0] in prefixes), key=lambda row: (-len(row[0]), row[1])
    )
    if not ranked:
        return default_weights(), ""
    _prefix, code, weights = ranked[0]
    return complete_weights(weights), code


def weights_for_region(region_code: str) -> tuple[dict[str, float], str]:
    """(weights in force, code of the region that set them) for `region_code`.

    One query. Unknown or empty codes get the defaults and ""."""
    prefixes = _candidate_prefixes(region_code)
    if not prefixes:
        return default_weights(), ""
    rows = PolicyWeights.objects.filter(region__prefix__in=prefixes).values_list(
        "region__prefix", "region_id", "weights"
    )
    return _resolve_rows(rows, region_code)


_cache_lock = threading.Lock()
#: (database name, version) -> ([(prefix, region code, weights)], {region code: in force}).
_cache: dict[str, tuple] = {}


def weights_in_force(region_code: str, version: tuple) -> tuple[dict[str, float], str]:
    """`weights_for_region` without a query: every row of the (small) weights
    table read once per process and kept under `version`, the `weights` of
    an `adapter.table_versions()` the caller has just read (publishing reads
    it anyway, with the product table's). A change to the weights changes
    the version, so the next ranking after an administrator sets or clears
    weights (in any process) reads the table again. Read the version first,
    then call this: rows are never older than the version they are kept under."""
    key = (_database_name(), tuple(version))
    with _cache_lock:
        hit = _cache.get("table")
    if hit is None or hit[0] != key:
        rows = list(PolicyWeights.objects.values_list("region__prefix", "region_id", "weights"))
        hit = (key, rows, {})
        with _cache_lock:
            _cache["table"] = hit
    resolved = hit[2]
    found = resolved.get(region_code)
    if found is None:
        found = resolved[region_code] = _resolve_rows(hit[1], region_code)
    weights, code = found
    return dict(weights), code


def forget_weights(**_kwargs) -> None:
    """Drop this process's cached weights (a receiver of PolicyWeights'
    post_save / post_delete, beside the version check: a test's rolled-back
    row can come back with the same id and, under a frozen clock, the same
    updated_at)."""
    with _cache_lock:
        _cache.clear()


def _database_name() -> str:
    alias = router.db_for_read(PolicyWeights)
    return f"{alias}:{connections[alias].settings_dict.get('NAME')}"


def weights_table() -> dict[str, tuple[dict[str, float], str]]:
    """Every region prefix that has weights: {prefix: (weights, region code)}.

    For batch use: resolve many regions against one read of the table with
    `resolve(table, region_code)`."""
    return {
        prefix: (complete_weights(weights), code)
        for prefix, code, weights in PolicyWeights.objects.values_list(
            "region__prefix", "region_id", "weights"
        )
    }


def resolve(
    table: dict[str, tuple[dict[str, float], str]], region_code: str
) -> tuple[dict[str, float], str]:
    """`weights_for_region` against a table from `weights_table()`."""
    for prefix in reversed(_candidate_prefixes(region_code)):
        if prefix in table:
            weights, code = table[prefix]
            return dict(weights), code
    return default_weights(), ""


def can_set_weights(actor, region: Region) -> bool:
    """Platform admins everywhere; government users for regions in their
    subtree (a national agency: everywhere)."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return scope.kind == ScopeKind.GOVERNMENT and region.code.startswith(scope.region_prefix)


def clean_weights(data: Any) -> dict[str, float]:
    """Raw input (API body, form data) → {key: float in [0, 5]}, or
    ValidationFailed naming each bad field. Every key is required; unknown
    keys are refused."""
    if not isinstance(data, dict):
        raise ValidationFailed([FieldError("weights", _("应为对象"))])
    errors: list[FieldError] = []
    cleaned: dict[str, float] = {}
    for key in sorted(set(data) - set(POLICY_KEYS)):
        errors.append(FieldError(str(key), _("未知的权重项")))
    for key in POLICY_KEYS:
        raw = data.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            errors.append(FieldError(key, _("必填")))
            continue
        if isinstance(raw, bool):
            errors.append(FieldError(key, _("应为数字")))
            continue
        try:
            value = Decimal(str(raw).strip())
        except (InvalidOperation, ValueError):
            errors.append(FieldError(key, _("应为数字")))
            continue
        if not value.is_finite():
            errors.append(FieldError(key, _("应为数字")))
            continue
        number = float(value)
        if not (MIN_WEIGHT <= number <= MAX_WEIGHT) or math.isnan(number):
            errors.append(
                FieldError(
                    key,
                    _("应在 %(min)s 到 %(max)s 之间")
                    % {"min": f"{MIN_WEIGHT:g}", "max": f"{MAX_WEIGHT:g}"},
                )
            )
            continue
        cleaned[key] = round(number, 4)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def set_weights(actor, region: Region, data: Any) -> PolicyWeights:
    """Set the policy weights of `region` (all four keys, each 0..5).

    Validates first (422 with field errors), then checks the actor (403),
    then writes the row and its audit entry in one transaction."""
    cleaned = clean_weights(data)
    if not can_set_weights(actor, region):
        raise NotAllowed(_("只有辖区覆盖该地区的政府用户或平台管理员可以设置政策权重"))
    with transaction.atomic():
        row = PolicyWeights.objects.select_for_update().filter(region=region).first()
        created = row is None
        before = {} if created else complete_weights(row.weights)
        if created:
            row = PolicyWeights(region=region)
        row.weights = cleaned
        row.set_by = actor
        row.save()
        audit.record(
            "matching.policy_weights.create" if created else "matching.policy_weights.update",
            actor=actor,
            obj=row,
            object_repr=f"{region.code} {region.name}",
            changes=audit.diff(before, cleaned),
        )
    return row


def clear_weights(actor, region: Region) -> bool:
    """Remove the region's own weights, so it inherits from above again.
    False when it had none."""
    if not can_set_weights(actor, region):
        raise NotAllowed(_("只有辖区覆盖该地区的政府用户或平台管理员可以设置政策权重"))
    with transaction.atomic():
        row = PolicyWeights.objects.select_for_update().filter(region=region).first()
        if row is None:
            return False
        before = complete_weights(row.weights)
        audit.record(
            "matching.policy_weights.delete",
            actor=actor,
            obj=row,
            object_repr=f"{region.code} {region.name}",
            changes=audit.diff(before, {}),
        )
        row.delete()
    return True
