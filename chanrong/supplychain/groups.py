"""The 产业链 policy group (insights.groups): enterprises on an industry
chain — its 链主 or a member (supplier or dealer, any tier) added on or before
the day. Registered from SupplychainConfig.ready: insights, and risk's
statistics split by group, never import supplychain."""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from chanrong.insights.groups import PolicyGroup, register_group
from chanrong.registry.models import Enterprise

from .models import Chain, ChainMember


def chain_members(day: date) -> QuerySet:
    """Leads of any chain and members added to a chain by the end of `day`."""
    memberships = ChainMember.objects.filter(enterprise_id=OuterRef("pk"), added_at__date__lte=day)
    leads = Chain.objects.filter(lead_id=OuterRef("pk"))
    return Enterprise.objects.filter(Q(Exists(memberships)) | Q(Exists(leads)))


def register_groups() -> None:
    register_group(
        PolicyGroup(
            "chain",
            _("产业链企业"),
            _("产业链的链主，或统计日前（含）已加入产业链的供应商、经销商"),
            chain_members,
            30,
        )
    )
