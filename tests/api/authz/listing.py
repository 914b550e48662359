"""The 上市培育 family's resolver: an enterprise sees its own pipelines,
government its region's, institutions none (see resolvers.py)."""

from __future__ import annotations

from .base import NA, Resolver, by_kind
from .world import REGION_A


def listing_pipeline() -> Resolver:
    def pipelines():
        from chanrong.listing.models import Pipeline

        return Pipeline.objects

    return by_kind(
        "listing pipeline",
        enterprise_own=lambda w: pipelines().filter(enterprise=w.ent_a),
        enterprise_foreign=lambda w: pipelines().exclude(enterprise=w.ent_a),
        institution_own=lambda w: NA("institutions see no listing pipeline"),
        institution_foreign=lambda w: pipelines().all(),
        government_own=lambda w: pipelines().filter(enterprise__region_id=REGION_A),
        government_foreign=lambda w: pipelines().filter(enterprise=w.ent_b),
    )
