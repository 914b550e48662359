"""Policy groups of enterprises (政策群体), as of a date: the one definition of
each group, reused by every statistic split by group, the 无贷户 list and
outreach.

A group is a key, a label, its written definition and ONE function
`members(day) -> Enterprise queryset` (unscoped: callers intersect it with
what the viewer may see). The groups the registry holds are defined here;
an app above insights adds its own in its AppConfig.ready() with
`register_group` (risk: 无贷户; supplychain: 产业链), so an app that needs
"enterprises of group X" (risk's statistics, matching's outreach) asks this
registry and never imports the app that knows the group.

Groups of loans rather than enterprises (首贷, 信用贷 vs 担保类) are facts of
one loan; they live with the loan book (risk.services.groups).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from chanrong.registry.models import Enterprise, ListEntry, ListType, Project, QualificationKind

Members = Callable[[date], QuerySet]


@dataclass(frozen=True)
class PolicyGroup:
    key: str
    label: str | Promise
    definition: str | Promise
    members: Members
    order: int = 100


_groups: dict[str, PolicyGroup] = {}


def register_group(group: PolicyGroup) -> PolicyGroup:
    """Add (or replace, idempotently) a group."""
    _groups[group.key] = group
    return group


def groups() -> list[PolicyGroup]:
    """Every registered group, in display order."""
    return sorted(_groups.values(), key=lambda g: (g.order, g.key))


def group(key: str) -> PolicyGroup | None:
    return _groups.get(key)


def members(key: str, day: date) -> QuerySet:
    """Enterprises of group `key` on `day` (KeyError for an unknown key)."""
    return _groups[key].members(day)


# --- the registry's groups -----------------------------------------------------------------------

#: The 白名单 of key enterprises (the same list types matching's outreach reads).
WHITE_LIST_TYPES = (
    ListType.KEY_ENTERPRISES,
    ListType.FINANCING_KEY,
    ListType.FINANCING_MILITARY_CIVIL,
    ListType.FINANCING_TECH_SME,
)


def _qualified(kind: str) -> Members:
    def members(day: date) -> QuerySet:
        return Enterprise.objects.with_active_qualification(kind, day, verified_only=True)

    return members


def _on_lists(list_types: tuple[str, ...]) -> Members:
    def members(day: date) -> QuerySet:
        entries = ListEntry.objects.in_force(day).filter(
            enterprise_id=OuterRef("pk"), version__list__list_type__in=list_types
        )
        return Enterprise.objects.filter(Exists(entries))

    return members


def chongqing_class_members(day: date) -> QuerySet:
    return Enterprise.objects.exclude(chongqing_class="")


def five_project_members(day: date) -> QuerySet:
    projects = Project.objects.filter(owner_id=OuterRef("pk")).exclude(project_class="")
    return Enterprise.objects.filter(Exists(projects))


for _order, (_key, _kind, _label) in enumerate(
    [
        ("specialised", QualificationKind.SPECIALISED_SME, _("专精特新中小企业")),
        ("little_giant", QualificationKind.LITTLE_GIANT, _("专精特新“小巨人”企业")),
        ("tech_sme", QualificationKind.TECH_SME, _("科技型中小企业")),
        ("high_tech", QualificationKind.HIGH_TECH, _("高新技术企业")),
    ],
    start=10,
):
    register_group(
        PolicyGroup(
            _key,
            _label,
            _("持有该资质、在统计日处于有效期内（生效日 ≤ 统计日 ≤ 有效期至）且已核验的企业"),
            _qualified(_kind),
            _order,
        )
    )

register_group(
    PolicyGroup(
        "green",
        _("绿色库"),
        _("统计日有效的绿色融资企业（项目）库已发布版本中的企业，或其项目在库中的企业"),
        _on_lists((ListType.GREEN,)),
        20,
    )
)
register_group(
    PolicyGroup(
        "chongqing_class",
        _("三类企业"),
        _("企业档案中登记了重庆“三类企业”类别的企业"),
        chongqing_class_members,
        21,
    )
)
register_group(
    PolicyGroup(
        "five_projects",
        _("五类项目企业"),
        _("拥有登记了重庆“五类项目”类别的项目的企业"),
        five_project_members,
        22,
    )
)
register_group(
    PolicyGroup(
        "white_list",
        _("白名单企业"),
        _("统计日有效的重点企业白名单或融资信息清单已发布版本中的企业"),
        _on_lists(WHITE_LIST_TYPES),
        23,
    )
)
