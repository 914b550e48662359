"""Page panels: a lower app's page showing what a higher app adds to it,
without importing it (the demand page shows the matching app's ranked
products; later risk and policy add theirs).

The page's view asks `panel_context("demands.detail", user=…, demand=…)` and
merges the dict into its template context; a higher app registers a provider
for that page name in its `AppConfig.ready()`. The page's template includes
the higher app's partial, which renders nothing when its keys are absent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Provider = Callable[..., dict[str, Any]]

_providers: dict[str, list[Provider]] = defaultdict(list)


def register_panel(page: str, provider: Provider) -> Provider:
    """Add `provider(**kwargs) -> dict` to `page` (idempotent for one function)."""
    if provider not in _providers[page]:
        _providers[page].append(provider)
    return provider


def panel_context(page: str, **kwargs: Any) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for provider in _providers.get(page, ()):
        context.update(provider(**kwargs))
    return context
