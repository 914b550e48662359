"""registry.search: name substring or USCC prefix, the same on SQLite and
PostgreSQL (where indexes serve it), through the list page and the API."""

from __future__ import annotations

import pytest
from django.db import connection

from chanrong.core.paging import CappedPaginator
from chanrong.registry.models import Enterprise
from chanrong.registry.search import (
    SortOnly,
    first_found,
    name_grams,
    normalise_query,
    order_by_name,
    search,
)

pytestmark = pytest.mark.django_db


def names(queryset) -> set[str]:
    return set(queryset.values_list("name", flat=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("精工", {"嘉善精工机械有限公司"}),  # two characters: the name-pieces path on PostgreSQL
        ("新材料科技", {"嘉善新材料科技有限公司"}),  # trigram path
        ("嘉善", {"嘉善精工机械有限公司", "嘉善新材料科技有限公司"}),
        ("苏", {"苏州姑苏电子有限公司"}),  # one character
        ("  嘉善　精工 ", set()),  # spaces are not dropped inside the text
        ("机械有限", {"嘉善精工机械有限公司"}),
        ("不存在的企业", set()),
        ("精机", set()),  # both bigram pieces absent as a run
    ],
)
def test_name_substring(world, query, expected):
    assert names(search(Enterprise.objects.all(), query)) == expected


def test_two_characters_need_the_run_not_just_the_pieces(world):
    Enterprise.objects.filter(pk=world.ent.pk).update(name="工精机械厂")
    assert names(search(Enterprise.objects.all(), "精工")) == set()
    assert names(search(Enterprise.objects.all(), "工精")) == {"工精机械厂"}


def test_full_width_and_case_fold(world):
    Enterprise.objects.filter(pk=world.ent.pk).update(name="嘉善ABC精工有限公司")
    assert names(search(Enterprise.objects.all(), "ａｂｃ精工")) == {"嘉善ABC精工有限公司"}
    assert names(search(Enterprise.objects.all(), "bc")) == {"嘉善ABC精工有限公司"}
    assert names(search(Enterprise.objects.all(), "c")) == {"嘉善ABC精工有限公司"}


def test_uscc_prefix_and_whole(world):
    whole = world.ent.uscc
    assert names(search(Enterprise.objects.all(), whole)) == {world.ent.name}
    assert names(search(Enterprise.objects.all(), whole.lower())) == {world.ent.name}
    prefix = whole[:8]  # 91330421: both 嘉善 enterprises
    assert names(search(Enterprise.objects.all(), prefix)) == {world.ent.name, world.ent2.name}
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in whole[:10])
    assert names(search(Enterprise.objects.all(), full_width)) == {world.ent.name, world.ent2.name}
    # Inside the code, not at its start: a USCC is looked up by its beginning only.
    assert not search(Enterprise.objects.all(), whole[5:12]).exists()


def test_blank_query_is_no_filter(world):
    assert search(Enterprise.objects.all(), "   ").count() == Enterprise.objects.count()
    assert search(Enterprise.objects.all(), None).count() == Enterprise.objects.count()


def test_helpers():
    assert normalise_query(" ＡＢ　 精工 ") == "AB 精工"
    assert name_grams("精工精") == ["工", "工精", "精", "精工"]
    assert name_grams("精") == ["精"]
    assert name_grams("") == []


@pytest.mark.postgres("PostgreSQL indexes")
def test_postgres_plans_can_use_the_search_indexes(world):
    """With plain scans priced out, the planner must be able to answer
    1-, 2- and 3-character searches from the migrations' GIN indexes."""
    with connection.cursor() as cursor:
        # Price out the alternatives (a scan of the table, or of the name
        # btree with a filter) that a table of three rows rightly prefers.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        for query, index in (
            ("苏", "registry_enterprise_name_grams"),
            ("精工", "registry_enterprise_name_grams"),
            ("新材料", "registry_enterprise_name_upper_trgm"),
        ):
            sql, params = (
                search(Enterprise.objects.all(), query).values("pk").query.sql_with_params()
            )
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert index in plan, plan


def test_capped_paginator(world):
    queryset = Enterprise.objects.order_by("pk")
    exact = CappedPaginator(queryset, 2, cap=10)
    assert (exact.count, exact.capped, exact.num_pages) == (3, False, 2)
    capped = CappedPaginator(queryset, 1, cap=2)
    assert (capped.count, capped.capped, capped.num_pages) == (2, True, 2)


def test_list_page_and_api_use_the_same_search(world, web_as, api_as):
    page = web_as("gov_jiashan").get("/enterprises/", {"q": "ｊｉａ"})
    assert page.status_code == 200
    page = web_as("gov_jiashan").get("/enterprises/", {"q": "精工"}).content.decode()
    assert world.ent.name in page and world.ent2.name not in page
    assert "共 1 家企业" in page
    api = api_as("gov_jiashan").get("/enterprises", {"q": world.ent.uscc[:8]}).json()
    assert {row["name"] for row in api["results"]} == {world.ent.name, world.ent2.name}
    # Visibility still applies: 嘉善's government does not find 苏州's enterprise.
    assert api_as("gov_jiashan").get("/enterprises", {"q": "姑苏"}).json()["count"] == 0


def test_capped_count_on_the_list_page(world, web_as, monkeypatch):
    monkeypatch.setattr("chanrong.registry.views.SEARCH_COUNT_CAP", 1)
    page = web_as("gov_jiashan").get("/enterprises/", {"q": "嘉善"}).content.decode()
    assert "超过 1 家企业" in page
    # Without a text search the list cap applies: both 嘉善 enterprises, counted.
    page = web_as("gov_jiashan").get("/enterprises/", {"size": ""}).content.decode()
    assert "共 2 家企业" in page


@pytest.mark.postgres("PostgreSQL function and index")
def test_sql_name_pieces_match_python(world):
    """chanrong_name_grams (registry migration 0005) gives the pieces
    `name_grams` describes, so the index finds what the LIKE would."""
    with connection.cursor() as cursor:
        for text in ("嘉善ABC精工有限公司", "精", "精工精", "A B"):
            cursor.execute("SELECT chanrong_name_grams(%s)", [text])
            assert sorted(set(cursor.fetchone()[0])) == name_grams(text)


def test_first_found_bounds_the_set_and_orders_it(world):
    everyone = Enterprise.objects.all()
    in_order = list(everyone.order_by("name", "pk").values_list("name", flat=True))
    assert list(first_found(everyone, 10).values_list("name", flat=True)) == in_order
    two = list(first_found(everyone, 2).values_list("name", flat=True))
    assert len(two) == 2 and two == sorted(two) and set(two) <= set(in_order)
    # The search and the visibility stay inside the set; the related rows
    # the list page shows come with it.
    found = first_found(search(Enterprise.objects.all(), "嘉善").select_related("region"), 10)
    assert {e.name for e in found} == {world.ent.name, world.ent2.name}
    assert "region" in found.query.select_related


def test_order_by_name_is_the_name_order(world):
    expected = list(Enterprise.objects.order_by("name", "pk").values_list("pk", flat=True))
    assert list(order_by_name(Enterprise.objects.all()).values_list("pk", flat=True)) == expected


@pytest.mark.postgres("PostgreSQL planner estimates")
def test_order_by_name_sorts_narrow_filters_and_walks_broad_ones(world, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_enterprise")
    everyone = Enterprise.objects.all()
    # Few rows: sorted, whatever the filter.
    assert isinstance(order_by_name(everyone).query.order_by[0], SortOnly)
    # Many rows (threshold lowered to this tiny table): a text search is sorted
    # while it keeps less than half the table; anything else is walked.
    monkeypatch.setattr("chanrong.registry.search.SORT_BELOW_ROWS", 0)
    narrow = order_by_name(search(everyone, "精工"), text_search=True)
    assert isinstance(narrow.query.order_by[0], SortOnly)
    assert [e.name for e in narrow] == ["嘉善精工机械有限公司"]
    assert order_by_name(search(everyone, "精工")).query.order_by == ("name", "pk")
    assert order_by_name(everyone, text_search=True).query.order_by == ("name", "pk")


def test_list_page_shows_the_first_found_of_a_broad_search(world, web_as, monkeypatch):
    monkeypatch.setattr("chanrong.registry.views.SEARCH_COUNT_CAP", 1)
    page = web_as("gov_jiashan").get("/enterprises/", {"q": "嘉善"}).content.decode()
    shown = [name for name in (world.ent.name, world.ent2.name) if name in page]
    assert len(shown) == 1


def test_order_by_name_of_nothing(world):
    assert list(order_by_name(Enterprise.objects.none())) == []
    assert list(order_by_name(Enterprise.objects.filter(pk__in=[]))) == []
