"""Who may do what in the pilot programme: the only place that knows.

Predicates take the user and, where it matters, the object, and never raise;
the state machines (workflows.py) and services (services.py) call them.
"""

from __future__ import annotations

from chanrong.accounts.models import AgencyFunction, AgencyLevel

# The five departments named by the notice: 工业和信息化部 会同 财政部、人民银行、
# 银保监会、证监会 — and their provincial counterparts.
REVIEW_FUNCTIONS = frozenset(
    {
        AgencyFunction.INDUSTRY,
        AgencyFunction.FINANCE,
        AgencyFunction.PBOC,
        AgencyFunction.FINANCIAL_REGULATION,
        AgencyFunction.SECURITIES,
    }
)


def _agency(user):
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if not user.is_government_user or not user.agency_id:
        return None
    return user.agency


def is_ministry_user(user) -> bool:
    agency = _agency(user)
    return agency is not None and agency.level == AgencyLevel.NATIONAL


def is_ministry_admin(user) -> bool:
    """The 工业和信息化部's administrators run batches, decisions and publication."""
    agency = _agency(user)
    return (
        agency is not None
        and agency.level == AgencyLevel.NATIONAL
        and agency.function == AgencyFunction.INDUSTRY
        and user.is_government_admin
    )


def is_ministry_reviewer(user) -> bool:
    """Reviewers of the five ministries score applications."""
    agency = _agency(user)
    return (
        agency is not None
        and agency.level == AgencyLevel.NATIONAL
        and agency.function in REVIEW_FUNCTIONS
    )


def is_applicant_admin(user, region_code: str) -> bool:
    """A government administrator of the applying city or district itself."""
    agency = _agency(user)
    return agency is not None and user.is_government_admin and agency.region_id == region_code


def is_unit_lead(user, unit_code: str) -> bool:
    """The provincial unit's 工信 department (its admins and staff) decides
    recommendations; the unit is the province, 计划单列市 or 兵团."""
    agency = _agency(user)
    return (
        agency is not None
        and agency.region_id == unit_code
        and agency.function == AgencyFunction.INDUSTRY
    )


def is_unit_admin(user, unit_code: str) -> bool:
    """Only an administrator of the unit's 工信 department confirms the list
    and uploads the joint report."""
    return is_unit_lead(user, unit_code) and user.is_government_admin


def is_unit_counterpart(user, unit_code: str) -> bool:
    """工信 and its 财政 / 人行 / 金融监管 / 证监 counterparts record opinions."""
    agency = _agency(user)
    return (
        agency is not None and agency.region_id == unit_code and agency.function in REVIEW_FUNCTIONS
    )


def review_unit_of(user):
    """The region of the provincial unit this user's agency speaks for, if any
    (its agency's region is a province, a 计划单列市 or the 兵团)."""
    agency = _agency(user)
    if agency is None or agency.region_id is None:
        return None
    region = agency.region
    if region.level == "province" or region.is_separate_plan_city or region.is_corps:
        return region
    return None
