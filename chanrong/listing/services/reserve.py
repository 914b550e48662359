"""The 上市后备库 (registry list of type LISTING_RESERVE) kept in step with
the pipelines.

The reserve is every enterprise of the list's region with a pipeline past
孵化 and not yet listed (股改, 辅导备案, 申报, 审核/注册). `compare` says how
the list's latest published version differs from that; `propose_version`
opens the list's next version through the registry's own services
(start_version, add_list_entry, remove_list_entry — never the list tables
by hand) with the differences applied and the reason of each. Only the
list's keeping agency may draft it (registry.workflows.is_drafter, checked
by start_version); the proposal is then submitted and published by that
agency's government admin through the registry's usual approval
(list_publishing), so a pipeline change never publishes a list by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core.errors import Conflict, NotFound, ValidationFailed
from chanrong.registry.models import EnterpriseList, ListEntry, ListType, ListVersion
from chanrong.registry.services import (
    add_list_entry,
    latest_published,
    remove_list_entry,
    start_version,
)

from ..models import RESERVE, Pipeline, Stage, stage_order


@dataclass
class ReserveDiff:
    lst: EnterpriseList
    #: (enterprise, reason) to put on the list.
    add: list[tuple] = field(default_factory=list)
    #: (enterprise, reason) to take off it.
    remove: list[tuple] = field(default_factory=list)

    @property
    def in_step(self) -> bool:
        return not self.add and not self.remove


def reserve_lists(actor):
    return (
        EnterpriseList.objects.visible_to(actor)
        .filter(list_type=ListType.LISTING_RESERVE)
        .select_related("region", "agency")
        .order_by("name", "pk")
    )


def get_reserve_list(actor, pk: int) -> EnterpriseList:
    found = reserve_lists(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("未找到该上市后备库名单"))
    return found


def reserve_pipelines(prefix: str) -> dict[int, Pipeline]:
    """The most advanced reserve pipeline of each enterprise in the region."""
    best: dict[int, Pipeline] = {}
    for pipeline in (
        Pipeline.objects.in_region(prefix).filter(stage__in=RESERVE).select_related("enterprise")
    ):
        held = best.get(pipeline.enterprise_id)
        if held is None or stage_order(pipeline.stage) > stage_order(held.stage):
            best[pipeline.enterprise_id] = pipeline
    return best


def _members(version: ListVersion | None) -> dict[int, ListEntry]:
    if version is None:
        return {}
    return {
        e.enterprise_id: e
        for e in version.entries.members().filter(project__isnull=True).select_related("enterprise")
    }


def _leaving_reason(enterprise_id: int) -> str:
    done = (
        Pipeline.objects.filter(enterprise_id=enterprise_id, stage__in=(Stage.LISTED, Stage.QUOTED))
        .order_by("-listed_on")
        .first()
    )
    if done is not None:
        return _("已%(stage)s（%(board)s，%(day)s）") % {
            "stage": done.get_stage_display(),
            "board": done.get_board_display(),
            "day": done.listed_on,
        }
    return _("不在上市培育进程中（未进入股改或已撤回/终止）")


def compare(lst: EnterpriseList) -> ReserveDiff:
    prefix = lst.region.prefix if lst.region_id else ""
    wanted = reserve_pipelines(prefix)
    members = _members(latest_published(lst))
    diff = ReserveDiff(lst)
    for enterprise_id, pipeline in sorted(wanted.items()):
        if enterprise_id not in members:
            diff.add.append(
                (
                    pipeline.enterprise,
                    _("上市培育：%(stage)s（%(board)s）")
                    % {
                        "stage": pipeline.get_stage_display(),
                        "board": pipeline.get_board_display(),
                    },
                )
            )
    for enterprise_id, entry in sorted(members.items()):
        if enterprise_id not in wanted:
            diff.remove.append((entry.enterprise, _leaving_reason(enterprise_id)))
    return diff


def propose_version(
    actor, lst: EnterpriseList, *, note: str = ""
) -> tuple[ListVersion, ReserveDiff]:
    """Draft the list's next version with the reserve's changes (module
    docstring). 409 when the list is already in step or a version is open."""
    if lst.list_type != ListType.LISTING_RESERVE:
        raise ValidationFailed({"list": _("只能为上市后备库名单提出调整")})
    diff = compare(lst)
    if diff.in_step:
        raise Conflict(_("上市后备库已与培育进程一致，无需调整"), code="reserve_in_step")
    with transaction.atomic():
        version = start_version(
            actor,
            lst,
            note=note
            or _("根据上市培育进程调整（新增 %(a)s 家，移出 %(r)s 家）")
            % {"a": len(diff.add), "r": len(diff.remove)},
        )
        for enterprise, reason in diff.add:
            add_list_entry(actor, version, enterprise=enterprise, reason=reason)
        for enterprise, reason in diff.remove:
            entry = version.entries.get(enterprise=enterprise, project__isnull=True)
            remove_list_entry(actor, version, entry, reason=reason)
    return version, diff
