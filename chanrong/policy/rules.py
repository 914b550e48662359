"""Who a programme is for: its eligibility as data, checked by a pure function.

The enterprise half (regions, industries, sizes, qualifications such as 专精
特新 and 科技型中小企业, lists in force such as 白名单 / 绿色库 / 上市后备,
tax grade, 黑名单) is the product catalogue's own rule set
(`finance.eligibility.evaluate`), so a programme and a product say "仅限…"
in the same words. This module adds what only programmes ask:

- 三类企业 (`chongqing_classes`) and 五类项目 (`project_classes`, the class
  of the project the loan finances): when both are set, either suffices —
  Chongqing's 贴息 is for "三类企业、五类项目" new loans;
- the loan: kind, purpose keywords, term in months, amount, and the window
  its loan date must fall in.

`parse(data)` checks a programme's eligibility JSON (field errors named
"eligibility.…"); `evaluate` returns every failed condition and every
missing fact, like the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from chanrong.core.errors import FieldError, ValidationFailed
from chanrong.finance import eligibility as el

CHONGQING_CLASS_LABELS = {
    "market": el.N_("“四有”企业"),
    "strategic": el.N_("“中国制造2025”和战略性新兴产业方向企业"),
    "specialised": el.N_("“双创”领域“专精特新”企业"),
}
#: The registry's ProjectClass codes (重庆's 五类项目, registry.models.ProjectClass);
#: tests/policy hold the two equal.
PROJECT_CLASS_LABELS = {
    "made_in_china_2025": el.N_("符合“中国制造2025”的项目"),
    "integration": el.N_("两化融合项目"),
    "upgrading": el.N_("传统产业转型升级项目"),
    "demonstration_base": el.N_("新型工业化示范基地项目"),
    "going_global": el.N_("企业“走出去”项目"),
}


@dataclass(frozen=True)
class ProgrammeConditions:
    enterprise: el.ProductConditions
    chongqing_classes: tuple[str, ...] = ()
    project_classes: tuple[str, ...] = ()
    loan_kinds: tuple[str, ...] = ()
    purpose_keywords: tuple[str, ...] = ()
    term_min_months: int | None = None
    term_max_months: int | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    loan_date_from: date | None = None
    loan_date_to: date | None = None


@dataclass(frozen=True)
class LoanTerms:
    kind: str
    purpose: str
    principal: Decimal
    loan_date: date
    maturity_date: date
    project_class: str | None = None  # None: the loan finances no recorded project

    @property
    def term_months(self) -> int:
        months = (self.maturity_date.year - self.loan_date.year) * 12
        months += self.maturity_date.month - self.loan_date.month
        if self.maturity_date.day < self.loan_date.day:
            months -= 1
        return max(months, 0)


# --- parsing the stored JSON --------------------------------------------------------


def _codes(data: dict, name: str, allowed: set[str] | None, errors: list[FieldError]) -> tuple:
    raw = data.get(name) or []
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        errors.append(FieldError(f"eligibility.{name}", _("应为代码列表")))
        return ()
    if allowed is not None:
        unknown = [x for x in raw if x not in allowed]
        if unknown:
            errors.append(
                FieldError(
                    f"eligibility.{name}", _("未知的代码：%(c)s") % {"c": "、".join(unknown)}
                )
            )
            return ()
    return tuple(dict.fromkeys(raw))


def _number(data: dict, name: str, errors: list[FieldError], integer: bool = False):
    raw = data.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw) if integer else Decimal(str(raw))
        if not integer and not value.is_finite():  # NaN / Infinity: comparing NaN raises
            raise InvalidOperation
    except (ValueError, InvalidOperation):
        errors.append(FieldError(f"eligibility.{name}", _("应为数字")))
        return None
    if value < 0:
        errors.append(FieldError(f"eligibility.{name}", _("不能为负数")))
        return None
    return value


def _day(data: dict, name: str, errors: list[FieldError]) -> date | None:
    raw = data.get(name)
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        errors.append(FieldError(f"eligibility.{name}", _("日期格式应为 YYYY-MM-DD")))
        return None


def parse(data: Any, *, areas: dict[str, el.Area] | None = None) -> ProgrammeConditions:
    """Checked conditions from a programme's eligibility JSON. `areas` maps
    region codes to their names (from the database); unknown codes are kept
    as their own names."""
    data = data if isinstance(data, dict) else {}
    errors: list[FieldError] = []
    sizes = _codes(data, "sizes", set(el.SIZE_LABELS), errors)
    qualifications = _codes(
        data, "qualifications", set(el.QUALIFICATION_LABELS) | {"listed", "listing_reserve"}, errors
    )
    lists = _codes(data, "lists", None, errors)
    grade = data.get("min_tax_grade") or None
    if grade is not None and grade not in el.TAX_GRADES:
        errors.append(FieldError("eligibility.min_tax_grade", _("纳税信用等级应为 A/B/M/C/D")))
    regions = _codes(data, "regions", None, errors)
    industries_in = _codes(data, "industries_in", None, errors)
    industries_out = _codes(data, "industries_out", None, errors)
    term_min = _number(data, "term_min_months", errors, integer=True)
    term_max = _number(data, "term_max_months", errors, integer=True)
    if term_min is not None and term_max is not None and term_min > term_max:
        errors.append(FieldError("eligibility.term_max_months", _("最长期限不能短于最短期限")))
    amount_min = _number(data, "amount_min", errors)
    amount_max = _number(data, "amount_max", errors)
    if amount_min is not None and amount_max is not None and amount_min > amount_max:
        errors.append(FieldError("eligibility.amount_max", _("金额上限不能低于下限")))
    date_from = _day(data, "loan_date_from", errors)
    date_to = _day(data, "loan_date_to", errors)
    if date_from and date_to and date_to < date_from:
        errors.append(FieldError("eligibility.loan_date_to", _("放款日期窗口的结束早于开始")))
    conditions = ProgrammeConditions(
        enterprise=el.ProductConditions(
            product_kind="credit",
            regions=tuple(
                (areas or {}).get(c) or el.Area(c, c.rstrip("0") or c, c) for c in regions
            ),
            industries_in=tuple(el.IndustryRef(c, "") for c in industries_in),
            industries_out=tuple(el.IndustryRef(c, "") for c in industries_out),
            sizes=sizes,
            required_qualifications=qualifications,
            required_lists=lists,
            min_tax_grade=grade if grade in el.TAX_GRADES else None,
            exclude_blacklisted=bool(data.get("exclude_blacklisted", True)),
        ),
        chongqing_classes=_codes(data, "chongqing_classes", set(CHONGQING_CLASS_LABELS), errors),
        project_classes=_codes(data, "project_classes", set(PROJECT_CLASS_LABELS), errors),
        loan_kinds=_codes(data, "loan_kinds", set(el.DEMAND_KIND_LABELS), errors),
        purpose_keywords=tuple(
            str(k).strip() for k in data.get("purpose_keywords") or [] if str(k).strip()
        ),
        term_min_months=term_min,
        term_max_months=term_max,
        amount_min=amount_min,
        amount_max=amount_max,
        loan_date_from=date_from,
        loan_date_to=date_to,
    )
    if errors:
        raise ValidationFailed(errors)
    return conditions


# --- checking -----------------------------------------------------------------------


def _join(labels) -> str:
    return "、".join(labels)


def evaluate(
    conditions: ProgrammeConditions,
    enterprise: el.EnterpriseFacts,
    *,
    chongqing_class: str | None,
    loan: LoanTerms | None = None,
    today: date | None = None,
    explain: bool = True,
) -> el.EligibilityResult:
    """Every condition the enterprise (and, when given, its loan) fails, and
    every fact that is missing. Without a loan the loan conditions are not
    checked: "which programmes could I use" on the enterprise's own page."""
    base = el.evaluate(conditions.enterprise, enterprise, today=today, explain=explain)
    failed = list(base.failed)
    missing = list(base.missing)

    def fail(code: str, message) -> None:
        failed.append(el.Finding(code, message() if explain else ""))

    classes = conditions.chongqing_classes
    projects = conditions.project_classes
    if classes or projects:
        in_class = bool(classes) and chongqing_class in classes
        in_project = bool(projects) and loan is not None and loan.project_class in projects
        # Without a loan, the project route is still open: do not refuse yet.
        if not in_class and not in_project and not (projects and loan is None):
            parts = []
            if classes:
                parts.append(
                    _("三类企业（%(l)s）")
                    % {"l": _join(_(CHONGQING_CLASS_LABELS[c]) for c in classes)}
                )
            if projects:
                parts.append(
                    _("五类项目贷款（%(l)s）")
                    % {"l": _join(_(PROJECT_CLASS_LABELS[c]) for c in projects)}
                )
            fail("classes", lambda: _("需属于%(w)s") % {"w": _("或").join(parts)})
    if loan is not None:
        _check_loan(conditions, loan, fail)
    return el.EligibilityResult(tuple(failed), tuple(missing))


def _check_loan(c: ProgrammeConditions, loan: LoanTerms, fail) -> None:
    if c.loan_kinds and loan.kind not in c.loan_kinds:
        fail(
            "loan_kinds",
            lambda: (
                _("仅支持%(k)s，该笔为%(h)s")
                % {
                    "k": _join(_(el.DEMAND_KIND_LABELS[k]) for k in c.loan_kinds),
                    "h": _(el.DEMAND_KIND_LABELS.get(loan.kind, loan.kind)),
                }
            ),
        )
    if c.purpose_keywords and not any(k in loan.purpose for k in c.purpose_keywords):
        fail(
            "purpose",
            lambda: (
                _("贷款用途需涉及：%(k)s；该笔用途为“%(p)s”")
                % {"k": _join(c.purpose_keywords), "p": loan.purpose or _("未填写")}
            ),
        )
    months = loan.term_months
    if c.term_min_months is not None and months < c.term_min_months:
        fail(
            "term_min",
            lambda: (
                _("贷款期限需不少于 %(n)s 个月，该笔为 %(m)s 个月")
                % {"n": c.term_min_months, "m": months}
            ),
        )
    if c.term_max_months is not None and months > c.term_max_months:
        fail(
            "term_max",
            lambda: (
                _("贷款期限需不超过 %(n)s 个月，该笔为 %(m)s 个月")
                % {"n": c.term_max_months, "m": months}
            ),
        )
    if c.amount_min is not None and loan.principal < c.amount_min:
        fail(
            "amount_min",
            lambda: (
                _("贷款金额需不低于 %(a)s，该笔为 %(b)s")
                % {"a": el.wan(c.amount_min), "b": el.wan(loan.principal)}
            ),
        )
    if c.amount_max is not None and loan.principal > c.amount_max:
        fail(
            "amount_max",
            lambda: (
                _("贷款金额需不超过 %(a)s，该笔为 %(b)s")
                % {"a": el.wan(c.amount_max), "b": el.wan(loan.principal)}
            ),
        )
    if c.loan_date_from is not None and loan.loan_date < c.loan_date_from:
        fail(
            "loan_date",
            lambda: (
                _("需为 %(d)s 及以后发放的贷款，该笔放款日 %(l)s")
                % {"d": c.loan_date_from, "l": loan.loan_date}
            ),
        )
    if c.loan_date_to is not None and loan.loan_date > c.loan_date_to:
        fail(
            "loan_date",
            lambda: (
                _("需为 %(d)s 及以前发放的贷款，该笔放款日 %(l)s")
                % {"d": c.loan_date_to, "l": loan.loan_date}
            ),
        )


def describe(conditions: ProgrammeConditions) -> list[str]:
    """The conditions in plain Chinese, one sentence each, for the public
    政策发布 page ("仅限小型、微型企业" …)."""
    c = conditions
    e = c.enterprise
    out: list[str] = []
    if e.regions:
        out.append(_("注册地在%(a)s") % {"a": _join(a.name for a in e.regions)})
    if e.industries_in:
        out.append(
            _("所属行业：%(l)s")
            % {"l": _join(f"{r.code} {r.name}".strip() for r in e.industries_in)}
        )
    if e.industries_out:
        out.append(
            _("不含行业：%(l)s")
            % {"l": _join(f"{r.code} {r.name}".strip() for r in e.industries_out)}
        )
    if e.sizes:
        out.append(_("%(s)s企业") % {"s": _join(_(el.SIZE_LABELS[s]) for s in e.sizes)})
    if e.required_qualifications:
        out.append(
            _("具备资质：%(q)s")
            % {"q": _join(_(el.QUALIFICATION_LABELS.get(q, q)) for q in e.required_qualifications)}
        )
    if e.required_lists:
        out.append(
            _("列入%(l)s") % {"l": _join(_(el.LIST_LABELS.get(x, x)) for x in e.required_lists)}
        )
    if e.min_tax_grade:
        out.append(_("纳税信用等级 %(g)s 级及以上") % {"g": e.min_tax_grade})
    if e.exclude_blacklisted:
        out.append(_("未列入失信黑名单"))
    parts = []
    if c.chongqing_classes:
        parts.append(
            _("三类企业（%(l)s）")
            % {"l": _join(_(CHONGQING_CLASS_LABELS[x]) for x in c.chongqing_classes)}
        )
    if c.project_classes:
        parts.append(
            _("五类项目贷款（%(l)s）")
            % {"l": _join(_(PROJECT_CLASS_LABELS[x]) for x in c.project_classes)}
        )
    if parts:
        out.append(_("属于%(w)s") % {"w": _("或").join(parts)})
    if c.loan_kinds:
        out.append(
            _("贷款类型：%(k)s") % {"k": _join(_(el.DEMAND_KIND_LABELS[k]) for k in c.loan_kinds)}
        )
    if c.purpose_keywords:
        out.append(_("贷款用途涉及：%(k)s") % {"k": _join(c.purpose_keywords)})
    if c.term_min_months is not None or c.term_max_months is not None:
        out.append(
            _("贷款期限 %(a)s–%(b)s 个月")
            % {
                "a": c.term_min_months or 0,
                "b": c.term_max_months if c.term_max_months is not None else "∞",
            }
        )
    if c.amount_min is not None or c.amount_max is not None:
        lo = el.wan(c.amount_min) if c.amount_min is not None else "0"
        hi = el.wan(c.amount_max) if c.amount_max is not None else _("不限")
        out.append(_("贷款金额 %(a)s 至 %(b)s") % {"a": lo, "b": hi})
    if c.loan_date_from and c.loan_date_to:
        out.append(
            _("放款日期在 %(a)s 至 %(b)s 之间") % {"a": c.loan_date_from, "b": c.loan_date_to}
        )
    elif c.loan_date_from:
        out.append(_("%(a)s 及以后发放的贷款") % {"a": c.loan_date_from})
    elif c.loan_date_to:
        out.append(_("%(b)s 及以前发放的贷款") % {"b": c.loan_date_to})
    return out
