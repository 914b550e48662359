"""Datetimes in API responses, written the way Django writes them.

`write_datetime` is `DjangoJSONEncoder`'s rule (milliseconds, UTC as "Z"),
used by the API's renderer for every datetime it meets.

`JsonTimestampLoader` is the same rule applied to the text PostgreSQL sends
for a `timestamptz`, for a list whose datetimes the response only passes on
(`CompiledList(..., raw_datetime=...)`): the page gets the JSON string as an
`orjson.Fragment`, and no datetime is built, given its time zone, validated
and formatted again. The dispatch list writes 100 to 250 of them a page,
which was the largest share of its CPU left (bench/request_path.py, issue
20). The server writes `2026-12-08 00:22:51.003272+00` in the UTC session
Django opens (`TIME_ZONE` unset in DATABASES); any other text (another
offset, a year past 9999, BC, infinity) goes through the loader psycopg
would have used and then `write_datetime`, so the answer is always the one
the datetime path gives (tests/core/test_jsondates.py compares both).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import orjson


def write_datetime(o: datetime) -> str:
    """Exactly as `DjangoJSONEncoder` writes it: milliseconds, UTC as "Z"."""
    text = o.isoformat()
    if o.microsecond:
        text = text[:23] + text[26:]
    if text.endswith("+00:00"):
        text = text.removesuffix("+00:00") + "Z"
    return text


def _loader_class():
    """Built on first use: psycopg is only installed for PostgreSQL."""
    import psycopg
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    class JsonTimestampLoader(Loader):
        """A `timestamptz` column's text as the JSON string `write_datetime`
        would give for the datetime, as an `orjson.Fragment`."""

        format = Format.TEXT

        def __init__(self, oid: int, context: Any = None):
            super().__init__(oid, context)
            # For text not in the usual shape: the connection's loader for
            # the type (Django's, aware datetimes), not the cursor's (this one).
            adapters = self.connection.adapters if self.connection else psycopg.adapters
            self._standard = adapters.get_loader(oid, Format.TEXT)(oid, context)

        def load(self, data: Any) -> orjson.Fragment:
            text = bytes(data)
            # 'YYYY-MM-DD HH:MM:SS[.f{1,6}]+00'
            size = len(text)
            if size == 22 and text[19:] == b"+00" and text[10:11] == b" ":
                return orjson.Fragment(b'"' + text[:10] + b"T" + text[11:19] + b'Z"')
            if (
                24 <= size <= 29
                and text[-3:] == b"+00"
                and text[19:20] == b"."
                and text[10:11] == b" "
            ):
                millis = (text[20:-3] + b"00")[:3]
                return orjson.Fragment(
                    b'"' + text[:10] + b"T" + text[11:19] + b"." + millis + b'Z"'
                )
            return orjson.Fragment(orjson.dumps(write_datetime(self._standard.load(data))))

    return JsonTimestampLoader


@functools.cache
def json_timestamp_loader() -> type:
    """The loader class (built once), to register on one cursor for `timestamptz`."""
    return _loader_class()
