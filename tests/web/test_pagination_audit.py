"""Every list page pages (issue 17: "every list page paginated").

Two declared tables cover every page that lists rows without a URL argument:
`PAGED` (the page must page: checked by rendering it with every paginator
cut to one row per page) and `BOUNDED` (listed whole, with the reason the
list cannot grow without bound). A new page that is a list (its URL name or
view name ends in "list", or it is in some role's menu) and is in neither
table fails `test_every_list_page_is_declared`, so a list page cannot be
added without deciding how it pages.

The render check needs no rows: a paged view puts a `Page` into its context
whatever the count. Where the `world` fixture (or two cheap rows made here)
gives a list more than one row, the page must also show a pager link.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.paginator import Page, Paginator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from chanrong.core.context_processors import nav_entries

#: url name → the user who sees the list (None: anonymous).
PAGED: dict[str, str | None] = {
    "accounts:tokens": "admin",
    "accounts:registrations": "gov_jiashan",
    "registry:list": "gov_jiashan",
    "registry:operating_queue": "gov_jiashan",
    "projects:list": "gov_jiashan",
    "lists:index": "gov_jiashan",
    "finance:list": "ent_user",
    "finance:product_list": "ent_user",
    "demands:list": "gov_jiashan",
    "demands:workbench": "bank_staff",
    "green:disclosure_checklist": "gov_jiashan",
    "demands:supervision": "gov_jiashan",
    "events:list": "gov_jiashan",
    "pilots:batches": "gov_national",
    "pilots:applications": "gov_national",
    "policy:gov_programmes": "gov_jiashan",
    "policy:gov_applications": "gov_jiashan",
    "policy:public_programmes": None,
    "policy:notices": None,
    "policy:mine": "ent_user",
    "policy:bank_pending": "bank_staff",
    "supplychain:chains": "gov_jiashan",
    "supplychain:receivables": "ent_user",
    "supplychain:inbox": "ent_user",
    "supplychain:bank": "bank_staff",
    "supplychain:vouchers": "ent_user",
    "supplychain:discount_applications": "bank_staff",
    "risk:loans": "gov_jiashan",
    "risk:alerts": "gov_jiashan",
    "risk:rules": "gov_jiashan",
    "risk:consultations": "gov_jiashan",
    "risk:models": "gov_jiashan",
    "risk:no_loan": "gov_jiashan",
    "funds:list": "gov_jiashan",
    "listing:list": "gov_jiashan",
    "content:articles": None,
    "content:answers": None,
    "content:manage": "gov_jiashan",
    "content:queue": "gov_jiashan",
    "webhooks:list": "bank_manager",
    "core:inbox": "ent_user",
    "core:imports": "gov_jiashan",
    "insights:plan_list": "gov_jiashan",
    "green:carbon_reports": "ent_user",
    "green:carbon_factors": "gov_jiashan",
    "green:disclosure_list": "bank_staff",
}

#: A role for whom one page shows other lists than for PAGED's user.
ALSO_AS: list[tuple[str, str]] = [
    ("policy:pools", "bank_staff"),  # draws, registrations, claims: each pages
    ("policy:pools", "ent_user"),  # own draws
]

#: url name → why the page lists its rows whole (or lists none).
BOUNDED: dict[str, str] = {
    "home": "the workbench shows counts and links, no rows",
    "green:home": "the green hub: counts and links per section, no rows",
    "exchange:home": "this deployment's identity and its peers: one parent and the children below it (tens at most)",
    "lpr:list": "one row per month with an LPR publication (12 a year); the chart needs them all",
    "insights:indicator_list": "the fixed catalogue of indicator definitions",
    "insights:dashboard": "aggregates only",
    "insights:report": "the user's own region's indicators for one plan year",
    "pilots:index": "open batches (one a year), own region's applications (one per batch), 20 pilots",
    "pilots:public": "published batches and their pilot cities: tens a year",
    "pilots:tracking": "one row per pilot city in scope (tens nationally)",
    "pilots:province": "redirects to the province's latest batch",
    "policy:pools": "for government: the agency's own pools (a handful); see ALSO_AS",
    "policy:stats": "aggregates only",
    "registry:provenance_review": "three queues each capped at REVIEW_LIMIT, the cap stated",
    "supplychain:home": "counts only",
    "supplychain:stats": "aggregates only",
    "supplychain:zhongzheng": "an upload form and a count",
    "risk:home": "aggregates only",
    "risk:groups": "aggregates by group only",
    "funds:stats": "aggregates only",
    "listing:stats": "aggregates only",
    "content:faq": "editorial FAQ, a short curated list (managed, paged, in content:manage)",
    "content:landing": "the newest 6 articles, 5 FAQ entries and 3 answers",
    "matching:policy": "one weight per list kind",
    "ops:status": "health figures, no rows",
    "core:pipl": "a form, no rows",
    "core:audit": "paged; needs the audit admin role the world has not (tests/core cover it)",
}

#: Lists under one object (a URL argument): paged, and checked where the object is made.
PAGED_UNDER_AN_OBJECT: dict[str, str] = {
    "policy:gov_outreach": "Paginator over the outreach rows (tests/policy)",
}

#: In a menu or named like a list, but not a list.
NOT_LISTS: dict[str, str] = {
    "admin:index": "Django's admin",
    "registry:detail": "the enterprise user's own profile",
}


LIST_NAME = re.compile(r"(^|[:_])list$")


def _named_views(resolver=None, namespace: str = "") -> dict[str, object]:
    names: dict[str, object] = {}
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in ("admin", "api") or "api/" in str(pattern.pattern):
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names.update(_named_views(pattern, inner))
        elif isinstance(pattern, URLPattern) and pattern.name:
            names[f"{namespace}{pattern.name}"] = pattern.callback
    return names


def _name_of(url: str) -> str:
    from django.urls import resolve

    match = resolve(url)
    return f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name


def test_every_list_page_is_declared(world):
    names = _named_views()
    lists = {
        name
        for name, view in names.items()
        if LIST_NAME.search(name) or getattr(view, "__name__", "").endswith("_list")
    }
    for user in world.users.values():
        lists |= {_name_of(url) for _key, _label, url in nav_entries(user) if url}
    declared = set(PAGED) | set(BOUNDED) | set(PAGED_UNDER_AN_OBJECT) | set(NOT_LISTS)
    undeclared = sorted(lists - declared)
    assert undeclared == [], (
        f"list pages not declared in {__name__}: {undeclared}; page them with "
        "chanrong.core.paging.paginate and add them to PAGED (or say in BOUNDED why not)"
    )
    assert sorted(set(PAGED) - set(names)) == []  # no stale entries


@pytest.fixture
def one_per_page(monkeypatch):
    """Every paginator (Django's and CappedPaginator) holds one row a page."""
    original = Paginator.__init__

    def init(self, object_list, per_page, *args, **kwargs):
        original(self, object_list, 1, *args, **kwargs)

    monkeypatch.setattr(Paginator, "__init__", init)


@pytest.fixture
def a_few_rows(world):
    """Two rows for some lists the world leaves empty or single, cheaply."""
    from chanrong.accounts.services.tokens import create_token
    from chanrong.insights.models import IndicatorPlan
    from chanrong.pilots.models import Batch

    admin = world.user("admin")
    for name in ("a", "b"):
        create_token(admin, admin, name)
    year = timezone.localdate().year
    for number in (1, 2):
        IndicatorPlan.objects.create(
            region_id=world.gov_jiashan.region_id,
            title=f"计划{number}",
            start_year=year,
            end_year=year + 2,
        )
        Batch.objects.create(
            number=number,
            name=f"第{number}批",
            application_deadline=timezone.localdate() + timedelta(days=30 * number),
            provincial_deadline=timezone.localdate() + timedelta(days=30 * number + 15),
        )


#: Lists that must show a pager link, given the world and `a_few_rows`.
MORE_THAN_A_PAGE = {
    "registry:list",
    "finance:list",
    "accounts:tokens",
    "insights:plan_list",
    "pilots:batches",
}


def _pages(response) -> list[Page]:
    """Every Page the view put into its context, at most one level down."""
    found: list[Page] = []
    for layer in response.context:
        for scope in layer.dicts:
            for value in scope.values():
                inner = [value]
                if isinstance(value, dict):
                    inner += list(value.values())
                elif hasattr(value, "__dict__") and not isinstance(value, type):
                    inner += list(vars(value).values())
                found += [v for v in inner if isinstance(v, Page)]
    return found


@pytest.mark.django_db
def test_each_list_page_shows_at_most_a_page_and_a_pager(world, a_few_rows, one_per_page):
    clients: dict[str | None, Client] = {None: Client()}
    paged_with_link = set()
    for name, username in [*PAGED.items(), *ALSO_AS]:
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(world.user(username))
        response = clients[username].get(reverse(name))
        assert response.status_code == 200, (name, username, response.status_code)
        pages = _pages(response)
        assert pages, f"{name} as {username}: no page in the context (unpaginated?)"
        for page in pages:
            assert len(page.object_list) <= 1, name
            if page.paginator.count > 1:
                assert 'rel="next"' in response.text, f"{name}: no pager link"
                paged_with_link.add(name)
    assert sorted(MORE_THAN_A_PAGE - paged_with_link) == []
