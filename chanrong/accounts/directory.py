"""The organisations a self-registration links to, provided by the apps above.

accounts sits below registry and finance (pyproject.toml's layers), so it
cannot look an enterprise up or create an institution itself. Each of those
apps registers a `Directory` in its AppConfig.ready(): the registry for
enterprises (registry/registration.py), finance for institutions
(finance/registration.py). The registration services call them by kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Match:
    """An organisation already on record for the code (or name) applied with."""

    pk: int
    name: str
    region_code: str


@dataclass(frozen=True)
class Directory:
    # (uscc or licence number, name) -> the organisation on record, or None.
    lookup: Callable[[str, str], Match | None]
    # (actor, registration) -> (organisation id, branch id or None): links to the
    # organisation on record or creates it, audited, inside the caller's transaction.
    provide: Callable[[Any, Any], tuple[int, int | None]]
    # Choices the form offers for the organisation's kind ([] when it has none).
    kinds: Callable[[], list[tuple[str, str]]] = lambda: []


_DIRECTORIES: dict[str, Directory] = {}


def register(kind: str, directory: Directory) -> None:
    _DIRECTORIES[kind] = directory


def directory_for(kind: str) -> Directory:
    try:
        return _DIRECTORIES[kind]
    except KeyError:
        raise LookupError(f"no organisation directory registered for {kind!r}") from None
