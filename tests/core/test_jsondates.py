"""core.apikit.jsondates: the text PostgreSQL sends for a `timestamptz`,
written as the JSON string Django writes for the datetime psycopg would
have loaded; every shape of text, including those the short path leaves to
the standard loader (another offset, a year past 9999 or before 1, BC,
infinity)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import orjson
import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DataError, connection, transaction

from chanrong.core.apikit.jsondates import json_timestamp_loader, write_datetime

#: The loader reads PostgreSQL's text.
on_postgresql = pytest.mark.postgres("the loader reads PostgreSQL's text")

TEXTS = [
    "2026-12-08 00:22:51.003272+00",
    "2026-12-08 00:22:51+00",
    "2026-12-08 00:22:51.5+00",
    "2026-12-08 00:22:51.000001+00",
    "2026-12-08 00:22:51.000999+00",
    "2026-12-08 00:22:51.001+00",
    "2026-12-08 00:22:51.999999+00",
    "2026-02-28 23:59:59.99+08",
    "0001-01-01 00:00:00+00",
    "9999-12-30 23:59:59.999999+00",
    "1999-12-31 23:59:59.123456-05:30",
]
FAILING = ["infinity", "-infinity", "0044-03-15 12:00:00+00 BC", "12000-01-01 00:00:00+00"]


def _select(text: str, *, as_json: bool, zone: str = "UTC"):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE %s", [zone])
        if as_json:
            cursor.cursor.adapters.register_loader("timestamptz", json_timestamp_loader())
        cursor.execute("SELECT %s::timestamptz", [text])
        return cursor.fetchone()[0]


@pytest.mark.django_db
@on_postgresql
@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
@pytest.mark.parametrize("text", TEXTS)
def test_the_text_is_written_as_the_datetime_would_be(text, zone):
    loaded = _select(text, as_json=False, zone=zone)
    written = _select(text, as_json=True, zone=zone)
    assert isinstance(written, orjson.Fragment)
    assert orjson.dumps(written) == orjson.dumps(write_datetime(loaded))
    assert json.loads(orjson.dumps(written)) == json.loads(
        json.dumps(loaded, cls=DjangoJSONEncoder)
    )


@pytest.mark.django_db
@on_postgresql
@pytest.mark.parametrize("text", FAILING)
def test_what_psycopg_cannot_load_fails_the_same_way(text):
    with pytest.raises(DataError) as standard:
        _select(text, as_json=False)
    with pytest.raises(DataError) as mine:
        _select(text, as_json=True)
    assert type(mine.value.__cause__) is type(standard.value.__cause__)


@pytest.mark.django_db
@on_postgresql
def test_null_stays_none_and_the_connection_keeps_its_loader():
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", json_timestamp_loader())
        cursor.execute("SELECT NULL::timestamptz")
        assert cursor.fetchone()[0] is None
    with connection.cursor() as cursor:  # a new cursor: the connection's own loader
        cursor.execute("SELECT '2026-12-08 00:22:51+00'::timestamptz")
        assert cursor.fetchone()[0] == datetime(2026, 12, 8, 0, 22, 51, tzinfo=UTC)


def test_write_datetime_is_djangos_rule():
    for value in (
        datetime(2026, 12, 8, 0, 22, 51, 3272, tzinfo=UTC),
        datetime(2026, 12, 8, 0, 22, 51, tzinfo=UTC),
        datetime(2026, 12, 8, 0, 22, 51, 999),
    ):
        assert json.dumps(write_datetime(value)) == json.dumps(value, cls=DjangoJSONEncoder)
