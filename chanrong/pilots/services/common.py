"""What every part of the pilot programme shares: the day (in Asia/Shanghai),
dates as people read them, links for notifications, cleaning of submitted
text, years and dates, the deadline check, and who gets notified (a
region's admins, a review unit's 工信 lead, the ministry's admins).

Kept apart so that every subdomain module can lean on it without leaning
on each other."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from chanrong.accounts.models import AgencyFunction, User
from chanrong.core.errors import Conflict

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_TEXT = 20_000
MAX_SECTION = 100_000


def today() -> date:
    return timezone.localdate()


def _day(d: date) -> str:
    """The date as people read it: 2025年3月1日 in Chinese (Django's zh-hans
    DATE_FORMAT), March 1, 2025 in English."""
    return date_format(d, "DATE_FORMAT")


def _link(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # pragma: no cover - the URLconf is always loaded in practice
        return ""


def _clean_text(value: Any, max_length: int) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\x00", "").replace("\r\n", "\n").strip()
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        text = text.encode("utf-8", "ignore").decode("utf-8", "ignore")
    return text[: max_length + 1]


def _text(
    data: dict, key: str, label: str, max_length: int, errors: dict, *, required: bool = False
) -> str | None:
    """The cleaned text for `key` (None when absent from `data`)."""
    if key not in data:
        return None
    text = _clean_text(data.get(key), max_length)
    if required and not text:
        errors[key] = _("请填写%(label)s") % {"label": label}
    elif len(text) > max_length:
        errors[key] = _("%(label)s不超过 %(limit)s 字") % {"label": label, "limit": max_length}
    return text


def _year(data: dict, key: str, errors: dict) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        errors[key] = _("年份应为整数，如 2021")
        return None
    if not MIN_YEAR <= year <= MAX_YEAR:
        errors[key] = _("年份应在 %(min_year)s–%(max_year)s 之间") % {
            "min_year": MIN_YEAR,
            "max_year": MAX_YEAR,
        }
        return None
    return year


def _date(data: dict, key: str, label: str, errors: dict) -> date | None:
    value = data.get(key)
    if isinstance(value, date):
        return value
    if value in (None, ""):
        errors[key] = _("请填写%(label)s") % {"label": label}
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[key] = _("%(label)s格式应为 YYYY-MM-DD") % {"label": label}
        return None


def _region_admins(region_code: str):
    return User.objects.filter(is_active=True, role="gov_admin", agency__region_id=region_code)


def _unit_leads(unit_code: str):
    return User.objects.filter(
        is_active=True,
        agency__region_id=unit_code,
        agency__function=AgencyFunction.INDUSTRY,
    )


def _ministry_admins():
    return User.objects.filter(
        is_active=True,
        role="gov_admin",
        agency__level="national",
        agency__function=AgencyFunction.INDUSTRY,
    )


def _require_before(deadline: date, what: str, act: str) -> None:
    if today() > deadline:
        raise Conflict(
            _("%(what)s已于%(date)s截止，不能再%(act)s。")
            % {"what": what, "date": _day(deadline), "act": act},
            code="deadline_passed",
        )
