"""Whether a 绿色产业指导目录 code exists, supplied by a higher app.

A loan's green category (risk: 绿色贷款 by the use of funds) is a code of
the catalogue ("3", "3.2", "3.2.1"). The catalogue is the green app's
reference data; risk and green sit on one layer and may not import each
other, so the check goes through this registry below both: green registers
its provider in `GreenConfig.ready()` (the pattern of `finance.carbon`).

Without a provider, or with no edition loaded, a code's existence is
unknown (None) and callers check its form only.
"""

from __future__ import annotations

from collections.abc import Callable

#: code -> True (an item or category of a loaded edition), False (in none),
#: None (no edition loaded: cannot tell).
CodeCheck = Callable[[str], bool | None]

_provider: CodeCheck | None = None


def set_green_code_provider(provider: CodeCheck | None) -> None:
    global _provider
    _provider = provider


def green_code_known(code: str) -> bool | None:
    """True / False as the loaded catalogue editions say, None when unknown."""
    if _provider is None:
        return None
    return _provider(code)
