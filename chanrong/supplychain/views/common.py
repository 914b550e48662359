"""How every supply-chain view turns a service's answer into a page.

- field errors (422) go beside their controls, the page re-rendered with 422;
- a conflict (409: fully financed, already confirmed, the same invoice …) is
  a message on the page, re-rendered with 409 — never an error page;
- a refusal of the actor (403) is Django's 403 page;
- what the user may not see is a 404 before any service is called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied

from chanrong.core.errors import Conflict, NotAllowed, ServiceError, ValidationFailed

OK = 200


def attempt(request, call: Callable[[], Any], form=None) -> tuple[Any, int]:
    """(result, 200), or (None, status) with the refusal shown on the page."""
    try:
        return call(), OK
    except ValidationFailed as exc:
        if form is not None:
            form.add_service_errors(exc)
        else:
            for error in exc.errors or []:
                messages.error(request, error.message)
            if not exc.errors:
                messages.error(request, exc.message)
        return None, 422
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    except Conflict as exc:
        messages.error(request, exc.message)
        return None, 409
    except ServiceError as exc:
        messages.error(request, exc.message)
        return None, exc.status


def split_row_errors(exc: ValidationFailed, prefix: str, index_map: list[int]):
    """Take the errors of rows ("invoices[2]", "parts[0].amount") out of a
    ValidationFailed: {row index on the page: [messages]} and the remaining
    errors as a new ValidationFailed (or None). `index_map[k]` is the page
    row the k-th item sent to the service came from."""
    rows: dict[int, list[str]] = {}
    rest = []
    for error in exc.errors:
        if error.field.startswith(prefix + "["):
            try:
                k = int(error.field[len(prefix) + 1 :].split("]", 1)[0])
            except ValueError:
                rest.append(error)
                continue
            row = index_map[k] if 0 <= k < len(index_map) else k
            rows.setdefault(row, []).append(error.message)
        else:
            rest.append(error)
    return rows, (ValidationFailed(rest) if rest else None)


class RowErrors:
    """Stands in for a form in `attempt`: the errors of rows go to `rows`
    (by page row), the rest to the form."""

    def __init__(self, form, prefix: str, index_map: list[int]):
        self.form, self.prefix, self.index_map = form, prefix, index_map
        self.rows: dict[int, list[str]] = {}

    def add_service_errors(self, exc: ValidationFailed) -> None:
        self.rows, rest = split_row_errors(exc, self.prefix, self.index_map)
        if rest is not None:
            self.form.add_service_errors(rest)
        elif self.rows:
            self.form.add_error(None, exc.message)
