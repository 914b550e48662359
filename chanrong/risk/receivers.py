"""Evaluate the early-warning rules when the data they read changes.

The registry tells (after commit) which enterprises changed, whose operating
data or credit records (行政处罚, 司法判决) were entered or imported, and which list versions were published; the
loan book evaluates after its own reports (services.loanbook).
Each evaluates only the enterprises concerned; the nightly job does the rest
(dates passing, scores)."""

from __future__ import annotations


def on_enterprises_changed(sender, ids=(), **kwargs) -> None:
    from .services import warnings

    warnings.evaluate(enterprise_ids=ids)


def on_list_versions_published(sender, ids=(), **kwargs) -> None:
    from chanrong.registry.models import ListEntry

    from .services import warnings

    members = ListEntry.objects.filter(version_id__in=list(ids), enterprise__isnull=False)
    warnings.evaluate(enterprise_ids=set(members.values_list("enterprise_id", flat=True)))
