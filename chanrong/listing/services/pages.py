"""What the pages offer: the agencies to pick as responsible, the filters of
the list. Rules stay in pipelines/reserve/stats."""

from __future__ import annotations

from django.db.models import Q

from chanrong.accounts.models import GovernmentAgency
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.registry.models import Enterprise

from ..models import Board, Pipeline, Stage


def _prefixes(code: str) -> list[str]:
    return [code[:n] for n in range(1, len(code) + 1)]


def agencies_for(actor, enterprise: Enterprise | None = None):
    """Agencies that may be responsible: those whose region contains the
    enterprise's (or, for government without an enterprise yet, its own
    region's and those above it)."""
    if enterprise is None:
        scope = scope_of(actor)
        if scope.kind == ScopeKind.ENTERPRISE:
            enterprise = Enterprise.objects.get(pk=scope.enterprise_id)
        elif scope.kind == ScopeKind.GOVERNMENT and actor.agency.region_id:
            code = actor.agency.region_id
            return GovernmentAgency.objects.filter(
                Q(region__isnull=True)
                | Q(region__prefix__in=_prefixes(code))
                | Q(region__code__startswith=scope.region_prefix)
            ).order_by("level", "name")
        else:
            return GovernmentAgency.objects.order_by("level", "name")
    return GovernmentAgency.objects.filter(
        Q(region__isnull=True) | Q(region__prefix__in=_prefixes(enterprise.region_id))
    ).order_by("level", "name")


def filtered(actor, params) -> tuple:
    """The visible pipelines, filtered by ?stage= and ?board= (unknown values ignored)."""
    queryset = Pipeline.objects.visible_to(actor).select_related("enterprise", "agency")
    stage = params.get("stage", "")
    board = params.get("board", "")
    if stage in Stage.values:
        queryset = queryset.filter(stage=stage)
    else:
        stage = ""
    if board in Board.values:
        queryset = queryset.filter(board=board)
    else:
        board = ""
    return queryset.order_by("-created_at", "-pk"), stage, board
