"""The navigation a user sees, by role (the web shell's one source of menus).

Every page's header and menu come from here, so what a role may reach is
decided once. Links to pages that another part of the platform has not
installed yet (their URL name does not resolve) are left out rather than
breaking every page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str
    active: bool = False


def _url(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _is_active(path: str, url: str, key: str) -> bool:
    if key == "home":
        return path == url
    return path == url or path.startswith(url.rstrip("/") + "/")


def _manages_funds(user) -> bool:
    """Staff of a fund-kind institution (基金管理人): the 产业基金 menu."""
    institution = getattr(user, "institution", None) if user.is_institution_user else None
    return getattr(institution, "kind", "") == "fund"


def nav_entries(user) -> list[tuple[str, str, str | None]]:
    """(key, label, url) for each menu entry the user may use, in menu order."""
    if user is None or not user.is_authenticated:
        return []
    entries: list[tuple[str, str, str | None]] = [("home", _("工作台"), _url("home"))]
    if user.is_enterprise_user and user.enterprise_id:
        entries.append(
            ("my_enterprise", _("企业信息"), _url("registry:detail", user.enterprise_id))
        )
    if user.is_institution_user:
        entries.append(("enterprises", _("授权企业"), _url("registry:list")))
    if user.is_government_user or user.is_platform_admin:
        entries.append(("enterprises", _("企业名录"), _url("registry:list")))
    if user.is_institution_user or user.is_government_user or user.is_platform_admin:
        entries.append(("institutions", _("金融机构"), _url("finance:list")))
    entries.append(("projects", _("重点项目"), _url("projects:list")))
    entries.append(("lists", _("名单"), _url("lists:index")))
    if user.is_government_user or user.is_platform_admin:
        entries.append(("operating_review", _("经营数据核实"), _url("registry:operating_queue")))
    entries.append(("products", _("融资产品"), _url("finance:product_list")))
    if user.is_enterprise_user:
        entries.append(("demands", _("我的融资需求"), _url("demands:list")))
    if user.is_government_user or user.is_platform_admin:
        entries.append(("demands", _("融资需求"), _url("demands:list")))
        entries.append(("supervision", _("督办看板"), _url("demands:supervision")))
        entries.append(("matching_policy", _("匹配政策权重"), _url("matching:policy")))
    if user.is_institution_user:
        entries.append(("workbench", _("派单工作台"), _url("demands:workbench")))
    entries.append(("events", _("对接活动"), _url("events:list")))
    if user.is_government_user or user.is_platform_admin or user.is_institution_user:
        entries.append(("consultations", _("留言咨询"), _url("content:queue")))
    if user.is_government_user or user.is_platform_admin:
        entries.append(("content", _("融资知识与问答"), _url("content:manage")))
    entries.append(("policy_public", _("政策发布"), _url("policy:public_programmes")))
    if user.is_enterprise_user or user.is_institution_user or user.is_government_user:
        entries.append(("supplychain", _("供应链金融"), _url("supplychain:home")))
    if user.is_government_user or user.is_platform_admin or _manages_funds(user):
        entries.append(("funds", _("产业基金"), _url("funds:list")))
    entries.append(("green", _("绿色金融"), _url("green:home")))
    if user.is_enterprise_user:
        entries.append(("policy_mine", _("我的政策"), _url("policy:mine")))
    if user.is_institution_user:
        entries.append(("policy_bank", _("政策申请确认"), _url("policy:bank_pending")))
    if user.is_enterprise_user or user.is_institution_user:
        entries.append(("policy_pools", _("转贷与风险补偿"), _url("policy:pools")))
    if user.is_enterprise_user:
        # The enterprise's own loan book; 抽贷断贷会商 is asked for from a loan.
        entries.append(("risk", _("我的贷款与会商"), _url("risk:loans")))
        entries.append(("listing", _("上市培育"), _url("listing:list")))
    if user.is_institution_user:
        entries.append(("risk", _("贷款台账与风险"), _url("risk:home")))
        entries.append(("group_stats", _("群体统计与无贷户"), _url("risk:groups")))
    if user.is_government_user or user.is_platform_admin:
        entries.append(("insights", _("统计分析"), _url("insights:dashboard")))
        entries.append(("indicator_plans", _("指标计划"), _url("insights:plan_list")))
    if user.is_government_user:
        entries.append(("indicator_report", _("指标填报"), _url("insights:report")))
    if user.is_government_user or user.is_platform_admin:
        entries.append(("pilots", _("试点城市申报"), _url("pilots:index")))
        entries.append(("listing", _("上市培育"), _url("listing:list")))
        entries.append(("policy", _("财政金融政策"), _url("policy:gov_programmes")))
        entries.append(("policy_pools", _("转贷与风险补偿"), _url("policy:pools")))
        entries.append(("risk", _("风险监测"), _url("risk:home")))
        entries.append(("group_stats", _("群体统计与无贷户"), _url("risk:groups")))
    if user.is_institution_manager or user.is_platform_admin:
        entries.append(("tokens", _("API 令牌"), _url("accounts:tokens")))
        entries.append(("webhooks", _("事件推送"), _url("webhooks:list")))
    if user.is_government_user or user.is_platform_admin:
        entries.append(("imports", _("数据导入"), _url("core:imports")))
        entries.append(("registrations", _("注册审核"), _url("accounts:registrations")))
        entries.append(("exchange", _("平台互联"), _url("exchange:home")))
    if user.is_platform_admin:
        entries.append(("lpr", _("LPR 报价"), _url("lpr:list")))
    if getattr(user, "is_audit_admin", False):
        entries.append(("audit", _("审计日志"), _url("core:audit")))
    if user.is_platform_admin:
        entries.append(("status", _("系统状态"), _url("ops:status")))
    if user.is_platform_admin or getattr(user, "is_security_admin", False):
        entries.append(("pipl", _("个人信息请求"), _url("core:pipl")))
    if user.is_staff and (user.is_platform_admin or getattr(user, "is_security_admin", False)):
        entries.append(("admin", _("系统管理"), _url("admin:index")))
    return entries


# The government menu in groups (key -> group). The entries keep the order
# nav_entries gives them: a group is a run of consecutive entries, so the
# groups follow that order and an entry without a group here stays in the
# run before it. Add a new key where its neighbours' group fits.
NAV_GROUP_LABELS = {
    "registry": _("企业与名单"),
    "docking": _("融资对接"),
    "public": _("政策发布与咨询"),
    "finance": _("产业金融"),
    "monitoring": _("监测与统计"),
    "programmes": _("试点与财政金融政策"),
    "risk": _("风险监测"),
    "system": _("系统"),
}
NAV_GROUPS = {
    "enterprises": "registry",
    "institutions": "registry",
    "projects": "registry",
    "lists": "registry",
    "operating_review": "registry",
    "products": "docking",
    "demands": "docking",
    "supervision": "docking",
    "matching_policy": "docking",
    "events": "docking",
    "consultations": "public",
    "content": "public",
    "policy_public": "public",
    "supplychain": "finance",
    "funds": "finance",
    "green": "finance",
    "insights": "monitoring",
    "indicator_plans": "monitoring",
    "indicator_report": "monitoring",
    "pilots": "programmes",
    "listing": "programmes",
    "policy": "programmes",
    "policy_pools": "programmes",
    "risk": "risk",
    "group_stats": "risk",
    "imports": "system",
    "registrations": "system",
    "exchange": "system",
}


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: str
    items: list


def nav_groups(items: list[NavItem]) -> list[NavGroup]:
    """`items` in runs by NAV_GROUPS, in their own order; entries before the
    first grouped one (工作台) form a group without a label."""
    groups: list[NavGroup] = []
    for item in items:
        key = NAV_GROUPS.get(item.key)
        if not groups or (key is not None and key != groups[-1].key):
            groups.append(NavGroup(key or "", NAV_GROUP_LABELS.get(key, ""), []))
        groups[-1].items.append(item)
    return groups


# The roles' names as people read them, translatable (the model's choices are plain text).
ROLE_LABELS = {
    "enterprise_user": _("企业用户"),
    "institution_staff": _("金融机构业务人员"),
    "institution_manager": _("金融机构管理员"),
    "gov_staff": _("政府工作人员"),
    "gov_admin": _("政府管理员"),
    "platform_admin": _("平台管理员"),
    "security_admin": _("安全管理员"),
    "audit_admin": _("审计管理员"),
}


def _role_label(user) -> str:
    role = getattr(user, "role", "")
    return ROLE_LABELS.get(role, role)


def _organisation_label(user) -> str:
    if getattr(user, "is_platform_admin", False):
        return str(_("平台运营方"))
    organisation = getattr(user, "organisation", None)
    if organisation is None:
        return ""
    label = str(organisation.name if hasattr(organisation, "name") else organisation)
    if getattr(user, "branch_id", None):
        label = f"{label} · {user.branch.name}"
    return label


def navigation(request):
    user = getattr(request, "user", None)
    path = getattr(request, "path", "")
    items = [
        NavItem(key=key, label=label, url=url, active=_is_active(path, url, key))
        for key, label, url in nav_entries(user)
        if url is not None
    ]
    # Only the most specific matching entry is "current" (企业信息 vs 企业名录).
    active = [i for i in items if i.active]
    if len(active) > 1:
        best = max(active, key=lambda i: len(i.url))
        items = [
            NavItem(i.key, i.label, i.url, active=(i is best)) if i.active else i for i in items
        ]
    context = {"nav_items": items}
    if user is not None and user.is_authenticated and user.is_government_user:
        context["nav_groups"] = nav_groups(items)
    if user is not None and user.is_authenticated:
        context["nav_user"] = {
            "name": user.display_name or user.get_username(),
            "organisation": _organisation_label(user),
            "role": _role_label(user),
        }
        context["password_change_url"] = _url("accounts:password_change")
    return context
