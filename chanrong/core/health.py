"""Health checks: what `chanrong doctor` and the 系统状态 page report.

The kernel imports no app, yet the operator wants one answer covering all of
them (is the worker alive, are webhooks failing, …). So each app registers
its checks here, in its AppConfig.ready(), and the doctor runs them all:

    from chanrong.core import health

    def check_something() -> health.Finding: ...

    health.register_check(check_something)

A check returns one Finding (or several) with a state — OK, WARN (someone
should look) or FAIL (something is not working) — and a plain message in
Chinese and in English. A check that raises is itself reported as FAIL, so
one broken check never hides the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

logger = logging.getLogger(__name__)


class State(StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


_RANK = {State.OK: 0, State.WARN: 1, State.FAIL: 2}


@dataclass(frozen=True)
class Finding:
    """One line of the report: `key` names what was checked (stable, for
    scripts reading `--json`), `zh` / `en` say what an operator should know."""

    key: str
    state: State
    zh: str
    en: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = str(self.state)
        return data


Check = Callable[[], "Finding | Iterable[Finding]"]

_checks: dict[str, Check] = {}


def register_check(check: Check, *, name: str | None = None) -> Check:
    """Add a check (idempotent: registering the same name again replaces it,
    so a ready() that runs twice in tests does not double the report)."""
    _checks[name or f"{check.__module__}.{check.__qualname__}"] = check
    return check


def registered() -> list[str]:
    return list(_checks)


def run_checks() -> list[Finding]:
    """Every registered check's findings, in registration order."""
    findings: list[Finding] = []
    for name, check in _checks.items():
        try:
            result = check()
        except Exception as exc:
            # One line, not a traceback: the report must stay readable when
            # the database is down and every check fails the same way.
            logger.warning("health check %s failed: %s", name, exc)
            findings.append(
                Finding(
                    key=name.rsplit(".", 1)[-1].removeprefix("check_"),
                    state=State.FAIL,
                    zh=f"检查本身出错：{exc}",
                    en=f"the check itself failed: {exc}",
                )
            )
            continue
        if isinstance(result, Finding):
            findings.append(result)
        else:
            findings.extend(result)
    return findings


def worst(findings: Iterable[Finding]) -> State:
    """The overall state: the worst of the findings (OK when there are none)."""
    state = State.OK
    for finding in findings:
        if _RANK[finding.state] > _RANK[state]:
            state = finding.state
    return state
