"""The LPR history: shipped data, the rate in force on a day, upkeep by
platform admins (validation, permission, audit), the page and the API."""

from __future__ import annotations

import importlib
import re
from bisect import bisect_right
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chanrong.accounts.services import create_token
from chanrong.core import refdata
from chanrong.core.errors import NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.finance import lpr
from chanrong.finance.models import LprRate, LprTenor

pytestmark = pytest.mark.django_db

API = "/api/v1/lpr"
# The shipped file runs from the first reformed publication to this month.
SHIPPED_FIRST = date(2019, 8, 1)
SHIPPED_LAST = date(2025, 12, 1)


def months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def rate(day: date, tenor: str) -> Decimal:
    return LprRate.objects.get(published_on=day, tenor=tenor).rate


# --- the shipped history ----------------------------------------------------------


def test_data_migration_loaded_every_month_of_both_tenors():
    months = months_between(SHIPPED_FIRST, SHIPPED_LAST)
    assert LprRate.objects.count() >= 2 * months
    assert LprRate.objects.count() == len(lpr.read_shipped())
    for tenor in LprTenor.values:
        seen = {
            (d.year, d.month)
            for d in LprRate.objects.filter(tenor=tenor).values_list("published_on", flat=True)
        }
        year, month = SHIPPED_FIRST.year, SHIPPED_FIRST.month
        for _ in range(months):
            assert (year, month) in seen, (tenor, year, month)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    assert not LprRate.objects.exclude(source="").filter(updated_by__isnull=False).exists()


def test_the_migration_itself_loads_the_history_into_an_empty_table():
    LprRate.objects.all().delete()
    migration = importlib.import_module("chanrong.finance.migrations.0004_lpr_shipped")
    migration.load(django_apps, None)
    assert LprRate.objects.count() == len(lpr.read_shipped())


@pytest.mark.parametrize(
    ("day", "one_year", "five_year"),
    [
        (date(2019, 8, 20), "4.25", "4.85"),
        (date(2019, 10, 21), "4.20", "4.85"),  # the 20th was a Sunday
        (date(2020, 4, 20), "3.85", "4.65"),
        (date(2021, 2, 20), "3.85", "4.65"),  # a 调休 Saturday, a working day
        (date(2021, 9, 22), "3.85", "4.65"),  # after the 中秋 holiday (19–21 Sep)
        (date(2021, 12, 20), "3.80", "4.65"),
        (date(2022, 5, 20), "3.70", "4.45"),
        (date(2022, 8, 22), "3.65", "4.30"),
        (date(2023, 8, 21), "3.45", "4.20"),
        (date(2024, 2, 20), "3.45", "3.95"),
        (date(2024, 7, 22), "3.35", "3.85"),
        (date(2024, 10, 21), "3.10", "3.60"),
        (date(2025, 5, 20), "3.00", "3.50"),
    ],
)
def test_known_publications(day, one_year, five_year):
    assert rate(day, "1y") == Decimal(one_year)
    assert rate(day, "5y") == Decimal(five_year)


def test_every_shipped_publication_is_on_or_just_after_the_20th():
    for day in LprRate.objects.values_list("published_on", flat=True).distinct():
        assert 20 <= day.day <= 23, day


def test_load_shipped_is_idempotent_and_keeps_admin_edits(world):
    admin = world.user("admin")
    assert lpr.load_shipped().created == 0
    edited, _ = lpr.save_lpr(admin, "1y", date(2024, 10, 21), "3.15", note="测试更正")
    tampered = LprRate.objects.get(tenor="5y", published_on=date(2024, 10, 21))
    tampered.rate = Decimal("9.99")
    tampered.save()
    LprRate.objects.filter(tenor="1y", published_on=date(2020, 1, 20)).delete()

    result = lpr.load_shipped()

    assert (result.created, result.updated) == (1, 1)
    assert result.kept == len(lpr.read_shipped()) - 2
    edited.refresh_from_db()
    assert edited.rate == Decimal("3.15")  # the admin's correction stays
    assert rate(date(2024, 10, 21), "5y") == Decimal("3.60")  # the unsaved row is restored
    assert rate(date(2020, 1, 20), "1y") == Decimal("4.15")
    again = lpr.load_shipped()
    assert (again.created, again.updated) == (0, 0)


def test_refdata_load_runs_the_lpr_loader():
    assert "finance.lpr" in refdata.registered_loaders()
    LprRate.objects.filter(published_on__year=2025).delete()
    from io import StringIO

    out = StringIO()
    call_command("refdata", "load", stdout=out)
    assert "LPR：新增 24 行" in out.getvalue()
    assert LprRate.objects.filter(published_on__year=2025).count() == 24


# --- the rate in force on a day ----------------------------------------------------


def test_rate_in_force_on_edge_days():
    assert lpr.lpr_on(date(2019, 8, 19), "1y") is None
    assert lpr.lpr_on(date(1990, 1, 1), "5y") is None
    first = lpr.lpr_on(date(2019, 8, 20), "1y")
    assert (first.published_on, first.rate, first.stale_days) == (
        date(2019, 8, 20),
        Decimal("4.25"),
        0,
    )
    # The day before the October 2024 publication: September's rate still holds.
    before = lpr.lpr_on(date(2024, 10, 20), "1y")
    assert (before.published_on, before.rate, before.stale_days) == (
        date(2024, 9, 20),
        Decimal("3.35"),
        30,
    )
    assert not before.stale
    on = lpr.lpr_on(date(2024, 10, 21), "1y")
    assert (on.published_on, on.rate, on.stale_days) == (date(2024, 10, 21), Decimal("3.10"), 0)
    five = lpr.lpr_on(date(2024, 10, 21), "5y")
    assert five.rate == Decimal("3.60")
    assert five.source == "全国银行间同业拆借中心公告"
    # A datetime is read as its local date.
    moment = timezone.make_aware(timezone.datetime(2024, 10, 21, 10, 0))
    assert lpr.lpr_on(moment, "1y").published_on == date(2024, 10, 21)


def test_stale_after_forty_days_without_a_publication():
    latest = LprRate.objects.filter(tenor="5y").order_by("-published_on").first()
    quote = lpr.lpr_on(latest.published_on + timedelta(days=40), "5y")
    assert quote.published_on == latest.published_on
    assert (quote.stale_days, quote.stale) == (40, False)
    quote = lpr.lpr_on(latest.published_on + timedelta(days=41), "5y")
    assert (quote.stale_days, quote.stale) == (41, True)


def test_unknown_tenor_is_a_field_error():
    with pytest.raises(ValidationFailed) as caught:
        lpr.lpr_on(date(2024, 1, 1), "3y")
    assert [e.field for e in caught.value.errors] == ["tenor"]
    with pytest.raises(ValidationFailed):
        lpr.lpr_table("")


def test_table_and_bisect_agree_with_the_query_and_with_a_linear_scan():
    for tenor in LprTenor.values:
        table = lpr.lpr_table(tenor)
        assert table == sorted(table)
        dates = [d for d, _ in table]

        def linear(day, table=table):
            found = [row for row in table if row[0] <= day]
            return found[-1] if found else None

        day = date(2019, 7, 1)
        while day <= date(2026, 3, 1):
            assert lpr.rate_in_force(table, day) == linear(day)
            day += timedelta(days=1)
        # Against the single query on each side of every publication.
        for published in dates[:: max(1, len(dates) // 12)]:
            for day in (published - timedelta(days=1), published):
                quote = lpr.lpr_on(day, tenor)
                expected = lpr.rate_in_force(table, day)
                if expected is None:
                    assert quote is None
                else:
                    assert (quote.published_on, quote.rate) == expected
    assert lpr.rate_in_force([], date(2024, 1, 1)) is None
    assert bisect_right([1, 2], 2) == 2  # the bisect semantics relied upon: <= day


# --- upkeep: validation, permission, audit -----------------------------------------


def test_admin_adds_then_corrects_a_month_audited(world):
    admin = world.user("admin")
    LprRate.objects.filter(published_on=date(2025, 12, 22)).delete()
    count = LprRate.objects.count()

    row, created = lpr.save_lpr(admin, "1y", date(2025, 12, 22), "3.00", "", "")
    assert created and row.rate == Decimal("3.0000") and row.updated_by == admin
    assert row.source == lpr.DEFAULT_SOURCE
    assert LprRate.objects.count() == count + 1
    entry = AuditEntry.objects.filter(action="lpr.create", object_id=str(row.pk)).get()
    assert entry.changes["rate"] == [None, "3.0000"]

    # Same tenor, same month, another date: a correction, not a second row.
    fixed, created = lpr.save_lpr(admin, "1y", "2025-12-20", "2.95%", "", "更正")
    assert not created and fixed.pk == row.pk
    assert (fixed.published_on, fixed.rate, fixed.note) == (
        date(2025, 12, 20),
        Decimal("2.95"),
        "更正",
    )
    assert LprRate.objects.count() == count + 1
    update = AuditEntry.objects.get(action="lpr.update", object_id=str(row.pk))
    assert update.changes["published_on"] == ["2025-12-22", "2025-12-20"]
    assert update.changes["rate"] == ["3.0000", "2.9500"]

    # Saving the same values again changes nothing and records nothing.
    lpr.save_lpr(admin, "1y", "2025-12-20", "2.95", lpr.DEFAULT_SOURCE, "更正")
    assert AuditEntry.objects.filter(action="lpr.update", object_id=str(row.pk)).count() == 1


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"tenor": "3y"}, ["tenor"]),
        ({"tenor": ""}, ["tenor"]),
        ({"published_on": date(2019, 8, 19)}, ["published_on"]),
        ({"published_on": "2019-13-01"}, ["published_on"]),
        ({"published_on": ""}, ["published_on"]),
        ({"rate": "0"}, ["rate"]),
        ({"rate": "100"}, ["rate"]),
        ({"rate": "-3.1"}, ["rate"]),
        ({"rate": "abc"}, ["rate"]),
        ({"rate": "NaN"}, ["rate"]),
        ({"rate": "3.12345"}, ["rate"]),
        ({"rate": None}, ["rate"]),
        ({"rate": True}, ["rate"]),
        ({"source": "x" * 101}, ["source"]),
        ({"note": "a\x00b"}, ["note"]),
        ({"tenor": "10y", "published_on": "昨天", "rate": "高"}, ["tenor", "published_on", "rate"]),
    ],
)
def test_bad_input_is_refused_by_field_and_saves_nothing(world, values, fields):
    args = {"tenor": "1y", "published_on": date(2024, 10, 21), "rate": "3.10", **values}
    before = list(LprRate.objects.order_by("pk").values_list("pk", "published_on", "rate"))
    with pytest.raises(ValidationFailed) as caught:
        lpr.save_lpr(world.user("admin"), **args)
    assert [e.field for e in caught.value.errors] == fields
    assert all(e.message for e in caught.value.errors)
    assert list(LprRate.objects.order_by("pk").values_list("pk", "published_on", "rate")) == before
    assert not AuditEntry.objects.filter(action__startswith="lpr.").exists()


def test_a_future_date_is_refused(world):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationFailed) as caught:
        lpr.save_lpr(world.user("admin"), "5y", tomorrow, "3.5")
    assert [e.field for e in caught.value.errors] == ["published_on"]


@pytest.mark.parametrize("username", ["bank_manager", "bank_staff", "gov_national", "ent_user"])
def test_only_platform_admins_may_save(world, username):
    with pytest.raises(NotAllowed):
        lpr.save_lpr(world.user(username), "1y", date(2024, 10, 21), "3.20")
    assert rate(date(2024, 10, 21), "1y") == Decimal("3.10")
    assert not lpr.can_maintain_lpr(world.user(username))
    assert lpr.can_maintain_lpr(world.user("admin"))
    assert not lpr.can_maintain_lpr(None)


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.dates(),
    st.decimals(allow_nan=True, allow_infinity=True),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tenor=junk, published_on=junk, value=junk, source=junk, note=junk)
def test_junk_is_either_saved_whole_or_refused_by_field(
    world, tenor, published_on, value, source, note
):
    count = LprRate.objects.count()
    try:
        row, created = lpr.save_lpr(world.user("admin"), tenor, published_on, value, source, note)
    except ValidationFailed as exc:
        assert exc.errors and {e.field for e in exc.errors} <= {
            "tenor",
            "published_on",
            "rate",
            "source",
            "note",
        }
        assert LprRate.objects.count() == count
    else:
        row.refresh_from_db()
        assert Decimal(0) < row.rate < Decimal(100)
        assert LprRate.objects.count() == count + int(created)


# --- the page ----------------------------------------------------------------------


def signed_in(world, username: str) -> Client:
    client = Client()
    client.force_login(world.user(username))
    return client


def test_page_for_a_platform_admin_has_chart_table_and_form(world):
    response = signed_in(world, "admin").get("/finance/lpr/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="lpr-form"' in html
    assert 'name="rate"' in html and 'name="published_on"' in html
    assert 'data-nav="lpr" aria-current="page"' in html
    assert '<script id="lpr-chart" type="application/json">' in html
    assert "/static/vendor/echarts/echarts.min.js" in html
    months = re.findall(r'<tr data-month="(\d{4}-\d{2})">', html)
    assert months[0] > months[-1] and months[-1] == "2019-08"  # newest first
    october = re.search(r'<tr data-month="2024-10">.*?</tr>', html, re.S).group(0)
    assert "2024-10-21" in october and "3.10" in october and "3.60" in october
    assert "-25 bp" in october
    assert 'data-action="edit-lpr"' in html


def test_page_for_a_bank_user_has_no_form_and_refuses_posts(world):
    client = signed_in(world, "bank_staff")
    response = client.get("/finance/lpr/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="lpr-table"' in html
    assert 'data-testid="lpr-form"' not in html and 'name="rate"' not in html
    assert 'data-action="edit-lpr"' not in html
    assert 'data-nav="lpr"' not in html
    post = client.post("/finance/lpr/", {"tenor": "1y", "published_on": "2024-10-21", "rate": "9"})
    assert post.status_code == 403
    assert rate(date(2024, 10, 21), "1y") == Decimal("3.10")


def test_page_needs_sign_in():
    response = Client().get("/finance/lpr/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_page_form_shows_errors_by_field_and_saves(world):
    client = signed_in(world, "admin")
    response = client.post(
        "/finance/lpr/", {"tenor": "1y", "published_on": "2019-01-20", "rate": "0", "source": ""}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_rate_error"' in html and "利率应大于 0 且小于 100" in html
    assert 'id="id_published_on_error"' in html and "不能早于该日" in html
    assert 'id="id_tenor_error"' not in html

    edit = LprRate.objects.get(tenor="5y", published_on=date(2024, 10, 21))
    prefilled = client.get(f"/finance/lpr/?edit={edit.pk}").content.decode()
    assert 'value="2024-10-21"' in prefilled and 'value="3.60"' in prefilled
    assert client.get("/finance/lpr/?edit=99999999999999999999999").status_code == 200

    response = client.post(
        "/finance/lpr/",
        {"tenor": "5y", "published_on": "2024-10-21", "rate": "3.65", "note": "更正示例"},
    )
    assert response.status_code == 302 and response["Location"] == "/finance/lpr/"
    assert rate(date(2024, 10, 21), "5y") == Decimal("3.65")
    assert "已更正" in client.get("/finance/lpr/").content.decode()


# --- the API -----------------------------------------------------------------------


def bearer(world, username: str) -> dict[str, str]:
    token = create_token(None, world.user(username), "tests").raw
    return {"Authorization": f"Bearer {token}"}


def test_api_lists_and_answers_the_rate_in_force(world):
    client, headers = Client(), bearer(world, "bank_staff")
    listing = client.get(API, {"tenor": "5y", "page_size": 200}, headers=headers).json()
    assert listing["count"] == LprRate.objects.filter(tenor="5y").count()
    first = listing["results"][0]
    assert first["tenor"] == "5y" and first["stale_days"] is None
    dates = [r["published_on"] for r in listing["results"]]
    assert dates == sorted(dates, reverse=True)
    both = client.get(API, headers=headers).json()
    assert both["count"] == LprRate.objects.count() and len(both["results"]) == 50

    quote = client.get(API, {"tenor": "1y", "on": "2024-10-21"}, headers=headers).json()
    assert quote["count"] == 1
    assert quote["results"][0] | {"updated_at": None} == {
        "tenor": "1y",
        "published_on": "2024-10-21",
        "rate": 3.1,
        "source": "全国银行间同业拆借中心公告",
        "note": "",
        "updated_at": None,
        "stale_days": 0,
        "stale": False,
    }
    before = client.get(API, {"on": "2024-10-20"}, headers=headers).json()["results"]
    assert [(r["tenor"], r["published_on"], r["rate"], r["stale_days"]) for r in before] == [
        ("1y", "2024-09-20", 3.35, 30),
        ("5y", "2024-09-20", 3.85, 30),
    ]
    early = client.get(API, {"on": "2019-08-19"}, headers=headers).json()
    assert early["count"] == 0 and early["results"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tenor": "3y"}, "tenor"),
        ({"on": "2024-13-01"}, "on"),
        ({"on": "0"}, "on"),  # not seconds since 1970
        ({"on": "20241021"}, "on"),
        ({"page_size": 0}, "page_size"),
    ],
)
def test_api_bad_query_is_422_by_field(world, params, field):
    response = Client().get(API, params, headers=bearer(world, "ent_user"))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_api_needs_authentication():
    assert Client().get(API).status_code == 401


def test_api_post_only_for_platform_admins(world):
    body = {"tenor": "1y", "published_on": "2024-10-21", "rate": 3.2}
    for username in ("bank_manager", "gov_national"):
        response = Client().post(
            API, body, content_type="application/json", headers=bearer(world, username)
        )
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
    assert rate(date(2024, 10, 21), "1y") == Decimal("3.10")


def test_api_post_adds_and_corrects_with_field_errors(world):
    client, headers = Client(), bearer(world, "admin")
    LprRate.objects.filter(published_on=date(2025, 12, 22)).delete()

    def post(body):
        return client.post(API, body, content_type="application/json", headers=headers)

    created = post({"tenor": "5y", "published_on": "2025-12-22", "rate": 3.5})
    assert created.status_code == 201
    assert created.json()["rate"] == 3.5 and created.json()["source"] == lpr.DEFAULT_SOURCE
    corrected = post({"tenor": "5y", "published_on": "2025-12-22", "rate": "3.45", "note": "x"})
    assert corrected.status_code == 200 and corrected.json()["rate"] == 3.45
    assert rate(date(2025, 12, 22), "5y") == Decimal("3.45")

    refused = post({"tenor": "5y", "published_on": "2019-08-01", "rate": 0})
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"published_on", "rate"}
    unknown = post({"tenor": "5y", "published_on": "2024-10-21", "rate": 3.6, "rates": 1})
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["rates"]
    missing = post({"tenor": "5y"})
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["errors"]} == {"published_on", "rate"}
    number = post({"tenor": "5y", "published_on": 1729468800, "rate": 3.6})
    assert number.status_code == 422
    assert [e["field"] for e in number.json()["errors"]] == ["published_on"]
    assert "YYYY-MM-DD" in number.json()["errors"][0]["message"]
    nul = post({"tenor": "5y", "published_on": "2024-10-21", "rate": 3.6, "note": "a\u0000"})
    assert nul.status_code == 422
    assert rate(date(2024, 10, 21), "5y") == Decimal("3.60")
