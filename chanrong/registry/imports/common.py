"""What every registry import kind shares: the headers' Chinese labels, the
USCC header aliases, and the row-by-row write of the small kinds.

Import files and exports speak Chinese whatever the user's language
(`_zh`, `_choices`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import FieldError, ServiceError
from chanrong.core.importing.spec import RowsRejected, WriteResult

from ..models import Enterprise


def _zh(label) -> str:
    """A (lazy) choice label in the platform's language. Import files and
    exports speak Chinese, headers and values alike, whatever the user's
    language; and the specs are built once, on first use, so a plain str()
    would freeze the language of whichever request came first."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(label)


def _choices(choices) -> tuple[tuple[str, str], ...]:
    return tuple((value, _zh(label)) for value, label in choices.choices if value)


USCC_ALIASES = ("信用代码", "社会信用代码", "统一信用代码", "企业信用代码", "USCC", "信用代码证号")


# --- row-by-row kinds: projects, list members, operating data ------------------------
#
# These files are small (hundreds to a few thousand rows), so each row goes
# through the same service call as the web form (upsert_project,
# add_list_entry / remove_list_entry, record_operating_data), which audits it,
# inside the engine's one transaction; a savepoint per row lets "import valid
# rows only" skip a row the service refuses while writing.


def _renamed(errors, mapping: dict[str, str]) -> list[FieldError]:
    return [FieldError(mapping.get(e.field, e.field), e.message) for e in errors]


def _write_rowwise(rows, valid_only: bool, write_row, mapping: dict[str, str]) -> WriteResult:
    result = WriteResult()
    refused: list[tuple[int, FieldError]] = []
    for number, values in rows:
        try:
            with transaction.atomic():
                outcome = write_row(values)
        except ServiceError as exc:
            errors = _renamed(exc.errors, mapping) or [FieldError("", exc.message)]
            refused.extend((number, error) for error in errors)
            continue
        if outcome == "created":
            result.created += 1
        elif outcome == "updated":
            result.updated += 1
        else:
            result.unchanged += 1
    if refused and not valid_only:
        raise RowsRejected(refused)
    result.rejected = refused
    return result


def _visible_by_uscc(actor, rows, key: str = "uscc") -> dict[str, Enterprise]:
    usccs = {row[key] for row in rows if row.get(key)}
    return {e.uscc: e for e in Enterprise.objects.visible_to(actor).filter(uscc__in=usccs)}


def _check_name(row, enterprise: Enterprise, key: str, errors: list[FieldError]) -> None:
    name = row.get(key)
    if name and " ".join(name.split()) != enterprise.name:
        errors.append(
            FieldError(
                key,
                _("名称与统一社会信用代码不符：该代码登记的企业是“%(name)s”")
                % {"name": enterprise.name},
            )
        )
