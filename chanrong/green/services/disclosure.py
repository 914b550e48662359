"""Institutions' environmental information disclosure (JR/T 0227-2021): the
yearly form, its checks, its transitions and the government's checklist.

Rules:
- one form per institution (head office) and year, and one per branch and
  year for a branch that files its own (`open_disclosure` is idempotent);
  the institution's users file for its branches too; the year runs from
  2021 (the standard's year) to the current year;
- any value given is checked whenever the form is saved, and every problem
  is reported at once by field: figures are non-negative decimals (money at
  most 2 decimals in 元, quantities at most 4), below 10^15, and 绿色信贷余额
  is at most 各项贷款余额; a section is at most `SECTION_MAX` characters;
- submission needs every section filled (“无” is an answer: the standard asks
  the institution to say so, not to leave it out) and the figures marked
  required in `FIGURES`; what is missing is named, nothing changes;
- return for revision needs a reason (at most 500 characters); the
  institution's users are told, with the reason.

Every save and transition is audited (transitions through core.workflow).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import apply_transition
from chanrong.finance.models import Branch, FinancialInstitution

from ..models.disclosure import (
    FIGURES,
    MONEY_FIGURES,
    SECTION_KEYS,
    SECTIONS,
    Disclosure,
    DisclosureState,
)
from ..workflows_disclosure import DISCLOSURE, can_submit, is_discloser

FIRST_YEAR = 2021
SECTION_MAX = 20_000
REASON_MAX = 500
FIGURE_MAX = Decimal("1e15")


def year_range() -> range:
    return range(FIRST_YEAR, timezone.localdate().year + 1)


def check_year(raw: Any) -> tuple[int | None, list[FieldError]]:
    try:
        year = int(str(raw).strip())
    except (TypeError, ValueError):
        return None, [FieldError("year", _("应为年份，如 2025"))]
    years = year_range()
    if year not in years:
        return None, [
            FieldError(
                "year",
                _("披露年度应在 %(a)s 至 %(b)s 年之间") % {"a": years[0], "b": years[-1]},
            )
        ]
    return year, []


# --- the form --------------------------------------------------------------------------------


def filing_branch(actor, raw: Any) -> Branch | None:
    """The branch a form is for (None: the head office), checked to be a
    branch of the actor's institution. Raises ValidationFailed on `branch`."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None
    branch = None
    if text.isdigit():
        branch = Branch.objects.filter(
            pk=int(text), institution_id=scope_of(actor).institution_id
        ).first()
    if branch is None:
        raise ValidationFailed([FieldError("branch", _("应为本机构的分支机构"))])
    return branch


def open_disclosure(actor, year: Any, branch: Any = None) -> Disclosure:
    """The actor's institution's form for `year` — the head office's, or
    `branch`'s (a pk of one of its branches) — created as a draft when there
    is none (staff or manager of an institution)."""
    scope = scope_of(actor)
    if scope.kind != ScopeKind.INSTITUTION:
        raise NotAllowed(_("只有金融机构可以填报环境信息披露"))
    value, errors = check_year(year)
    try:
        filer = filing_branch(actor, branch)
    except ValidationFailed as exc:
        errors += exc.errors
    if errors:
        raise ValidationFailed(errors)
    key = {"institution_id": scope.institution_id, "branch": filer, "year": value}
    existing = Disclosure.objects.filter(**key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            disclosure = Disclosure.objects.create(**key, created_by=actor)
            audit.record(
                "green.disclosure.open",
                actor=actor,
                obj=disclosure,
                changes={"year": [None, value], "branch": [None, filer.pk if filer else None]},
            )
    except IntegrityError:  # the same form opened at the same moment
        return Disclosure.objects.get(**key)
    return disclosure


def _figure(name: str, raw: Any, errors: list[FieldError]) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        errors.append(FieldError(name, _("应为数字")))
        return None
    try:
        value = Decimal(str(raw).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        errors.append(FieldError(name, _("应为数字")))
        return None
    if not value.is_finite():
        errors.append(FieldError(name, _("应为数字")))
        return None
    places = 2 if name in MONEY_FIGURES else 4
    if value < 0:
        errors.append(FieldError(name, _("不能为负数")))
    elif value >= FIGURE_MAX:
        errors.append(FieldError(name, _("数值过大，请核对单位")))
    elif value != value.quantize(Decimal(1).scaleb(-places)):
        errors.append(FieldError(name, _("最多 %(n)s 位小数") % {"n": places}))
    else:
        return value
    return None


@dataclass(frozen=True)
class FormValues:
    sections: dict[str, str]
    figures: dict[str, Decimal | None]


def check_form(data: dict[str, Any]) -> tuple[FormValues | None, list[FieldError]]:
    """The sections (`sections` as a mapping, or flat `section_<key>` fields of
    a web form) and the figures; every problem at once."""
    errors: list[FieldError] = []
    given = data.get("sections")
    if given is not None and not isinstance(given, dict):
        errors.append(FieldError("sections", _("应为按章节键给出的文本")))
        given = {}
    given = dict(given or {})
    for key in SECTION_KEYS:
        flat = data.get(f"section_{key}")
        if flat is not None and key not in given:
            given[key] = flat
    unknown = sorted(set(given) - set(SECTION_KEYS))
    for key in unknown:
        errors.append(FieldError(f"sections.{key}", _("未知的章节")))
    sections: dict[str, str] = {}
    for key in SECTION_KEYS:
        raw = given.get(key)
        text = "" if raw is None else str(raw).replace("\r\n", "\n").strip()
        if "\x00" in text:
            errors.append(FieldError(f"sections.{key}", _("含有不可见字符")))
        elif len(text) > SECTION_MAX:
            errors.append(
                FieldError(f"sections.{key}", _("最多 %(n)s 个字符") % {"n": SECTION_MAX})
            )
        sections[key] = text
    figures = {name: _figure(name, data.get(name), errors) for name in FIGURES}
    green, total = figures["green_loan_balance"], figures["total_loan_balance"]
    if green is not None and total is not None and green > total:
        errors.append(FieldError("green_loan_balance", _("绿色信贷余额不能大于各项贷款余额")))
    if errors:
        return None, errors
    return FormValues(sections, figures), []


def _editable(actor, disclosure: Disclosure) -> None:
    if not is_discloser(actor, disclosure):
        raise NotAllowed(_("只有披露机构本机构人员可以填写"))
    if not disclosure.is_editable:
        raise Conflict(
            _("当前状态为「%(s)s」，不能修改") % {"s": disclosure.get_state_display()},
            code="not_editable",
        )


def save_disclosure(actor, disclosure: Disclosure, data: dict[str, Any]) -> Disclosure:
    """Save the whole form (sections and figures) of a draft or returned
    disclosure; what was not given is cleared, as a form posts every field."""
    _editable(actor, disclosure)
    values, errors = check_form(data)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = Disclosure.objects.select_for_update().get(pk=disclosure.pk)
        _editable(actor, locked)
        changed: dict[str, list] = {}
        before_sections = locked.sections or {}
        for key, text in values.sections.items():
            if (before_sections.get(key) or "") != text:
                # The audit keeps which sections changed and their length, not the text.
                changed[f"sections.{key}"] = [
                    len(before_sections.get(key) or ""),
                    len(text),
                ]
        for name, value in values.figures.items():
            if getattr(locked, name) != value:
                changed[name] = [getattr(locked, name), value]
                setattr(locked, name, value)
        locked.sections = {k: v for k, v in values.sections.items() if v}
        if changed:
            locked.save()
            audit.record("green.disclosure.save", actor=actor, obj=locked, changes=changed)
    disclosure.refresh_from_db()
    return disclosure


def _completeness_errors(disclosure: Disclosure) -> list[FieldError]:
    errors = [
        FieldError(f"sections.{key}", _("提交前须填写“%(t)s”") % {"t": SECTIONS[key][0]})
        for key in disclosure.missing_sections()
    ]
    errors += [
        FieldError(name, _("提交前须填写“%(t)s”") % {"t": FIGURES[name][0]})
        for name in disclosure.missing_figures()
    ]
    return errors


def submit(actor, disclosure: Disclosure, data: dict[str, Any] | None = None) -> Disclosure:
    """The institution's manager submits: every section and required figure filled."""
    if not can_submit(actor, disclosure):
        raise NotAllowed(_("只有披露机构的管理员可以提交"))
    with transaction.atomic():
        locked = Disclosure.objects.select_for_update().get(pk=disclosure.pk)
        if locked.state in (DisclosureState.DRAFT, DisclosureState.RETURNED):
            errors = _completeness_errors(locked)
            if errors:
                raise ValidationFailed(errors, _("披露内容不完整，未提交"))
        apply_transition(
            DISCLOSURE,
            locked,
            "submit",
            actor,
            changes={"submitted_at": timezone.now(), "submitted_by": actor},
        )
    disclosure.refresh_from_db()
    return disclosure


def return_for_revision(actor, disclosure: Disclosure, data: dict[str, Any]) -> Disclosure:
    """An agency of the institution's region returns a submitted form with a reason."""
    reason = str(data.get("reason") or "").strip()
    if not reason:
        raise ValidationFailed([FieldError("reason", _("请填写退回理由"))])
    if len(reason) > REASON_MAX:
        raise ValidationFailed([FieldError("reason", _("最多 %(n)s 个字符") % {"n": REASON_MAX})])
    apply_transition(
        DISCLOSURE,
        disclosure,
        "return",
        actor,
        changes={"return_reason": reason, "returned_at": timezone.now(), "returned_by": actor},
        notify=_tell_institution,
    )
    disclosure.refresh_from_db()
    return disclosure


def _tell_institution(disclosure: Disclosure, transition, actor) -> None:
    """The institution's users learn that their form was returned, and why."""
    from chanrong.accounts.models import User

    notify.send(
        User.objects.filter(is_active=True, institution_id=disclosure.institution_id),
        "green.disclosure",
        _("%(year)s 年度环境信息披露被退回修改：%(reason)s")
        % {"year": disclosure.year, "reason": disclosure.return_reason},
        reverse("green:disclosure", args=[disclosure.pk]),
        email=True,
    )


def disclosure_for(actor, pk: int) -> Disclosure:
    """The disclosure `pk` if visible to `actor`, else NotFound (404)."""
    found = (
        Disclosure.objects.visible_to(actor)
        .select_related("institution", "branch")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("未找到该披露"))
    return found


# --- the government's checklist -------------------------------------------------------------


def checklist(actor, year: int) -> QuerySet:
    """Institutions present in the agency's region subtree (based there or
    with a branch there) with the state of their `year` form, filed or not,
    ordered not-filed first. Annotations: `d_id`, `d_state`, `d_sections`,
    `d_reason` (None when no form was opened). Drafts show only how complete
    they are (`missing_titles`), never their text."""
    scope = scope_of(actor)
    if scope.kind not in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM):
        raise NotAllowed(_("只有政府部门可以查看披露情况"))
    forms = Disclosure.objects.filter(institution=OuterRef("pk"), branch__isnull=True, year=year)
    return (
        FinancialInstitution.objects.present_in(scope.region_prefix)
        .annotate(
            d_id=Subquery(forms.values("pk")[:1]),
            d_state=Subquery(forms.values("state")[:1]),
            d_sections=Subquery(forms.values("sections")[:1]),
            d_reason=Subquery(forms.values("return_reason")[:1]),
        )
        .order_by("name", "pk")
    )


def missing_titles(sections: Any) -> list[str]:
    """Titles of the sections not filled in a form's `sections` (all of
    them when there is no form)."""
    if isinstance(sections, str):  # a JSON subquery some backends return as text
        import json

        try:
            sections = json.loads(sections)
        except ValueError:
            sections = {}
    text = sections if isinstance(sections, dict) else {}
    return [
        str(title)
        for key, (title, _hint) in SECTIONS.items()
        if not str(text.get(key) or "").strip()
    ]


def checklist_summary(rows: QuerySet) -> dict[str, int]:
    """How many institutions of the checklist are in each state (one query)."""
    counts = {"total": 0, "submitted": 0, "returned": 0, "draft": 0, "none": 0}
    for state in rows.values_list("d_state", flat=True):
        counts["total"] += 1
        counts[state or "none"] += 1
    return counts


# --- branches that file their own -----------------------------------------------------------


def _branch_row(branch: Branch, form: Disclosure | None) -> dict[str, Any]:
    state = form.state if form else None
    return {
        "branch": branch,
        "id": form.pk if form else None,
        "state": state,
        "state_label": DisclosureState(state).label if state else _("未单独披露"),
        "missing": [str(SECTIONS[k][0]) for k in form.missing_sections()] if form else [],
        "reason": form.return_reason if form else "",
        "visible": state in (DisclosureState.SUBMITTED, DisclosureState.RETURNED),
    }


def branch_checklist(actor, year: int, institution_ids) -> dict[int, list[dict[str, Any]]]:
    """The branches in the agency's region subtree of the given institutions
    (the page's), each with its own `year` form if it filed one: {institution
    pk: [row, …]} in region and name order. A branch that did not file is
    "未单独披露" (the head office's form covers it), not a gap. Two queries."""
    scope = scope_of(actor)
    if scope.kind not in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM):
        raise NotAllowed(_("只有政府部门可以查看披露情况"))
    branches = list(
        Branch.objects.filter(
            institution_id__in=list(institution_ids),
            region__code__startswith=scope.region_prefix or "",
        )
        .select_related("region")
        .order_by("institution_id", "region_id", "name")
    )
    forms = {
        form.branch_id: form
        for form in Disclosure.objects.filter(branch__in=branches, year=year).only(
            "pk", "branch_id", "state", "sections", "return_reason"
        )
    }
    out: dict[int, list[dict[str, Any]]] = {}
    for branch in branches:
        out.setdefault(branch.institution_id, []).append(_branch_row(branch, forms.get(branch.pk)))
    return out


def branch_summary(actor, year: int) -> dict[str, int]:
    """Branches in the agency's region subtree, and how many of them filed
    their own `year` form, by state (one query each)."""
    scope = scope_of(actor)
    prefix = scope.region_prefix or ""
    total = Branch.objects.filter(region__code__startswith=prefix).count()
    counts = {"total": total, "submitted": 0, "returned": 0, "draft": 0}
    for state in Disclosure.objects.filter(
        branch__region__code__startswith=prefix, year=year
    ).values_list("state", flat=True):
        counts[state] += 1
    return counts
