"""The scopes people act for: which kept figures are worth computing.

Kept figures (core.kept) are computed per viewer scope, ahead of the view,
for the scopes somebody can open the page with: every government region
prefix an active user's agency has ("" is the whole country: national
agencies, and platform admins, who see everything too), and every
institution with an active user. A scope nobody had when the figures were
computed is computed live when viewed.
"""

from __future__ import annotations

from .models import GovernmentAgency, User


def government_prefixes() -> list[str]:
    """The region prefix of every agency someone active acts for, and the
    empty one (the whole country; an agency without a region is national)."""
    agencies = GovernmentAgency.objects.filter(users__is_active=True).select_related("region")
    return sorted({""} | {agency.region_prefix for agency in agencies.distinct()})


def institution_ids() -> list[int]:
    """Every institution with an active user."""
    found = User.objects.filter(is_active=True, institution_id__isnull=False)
    return sorted(set(found.values_list("institution_id", flat=True)))
