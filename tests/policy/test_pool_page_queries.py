"""The pool page's statements do not grow with its registrations (issue 20:
each registration's row read its lending bank with a query of its own, and
every registration, claim and draw was listed); the lists page."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chanrong.policy import services

from .poolkit import confirmed_loan, make_riskpool

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 1)


def _page(client, url):
    client.get(url)  # warm
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_risk_pool_page_statements_do_not_grow_with_registrations(policy_world, monkeypatch):
    pw = policy_world
    programme = make_riskpool(
        pw, capital="100000000", params={"share": "50", "cap_per_loan": "400000"}
    )
    bank = pw.user("bank_staff")

    def register(no):
        services.register_in_pool(bank, programme, confirmed_loan(pw, no), today=TODAY)

    client = Client()
    client.force_login(pw.user("fin_staff"))
    url = reverse("policy:pool", args=[programme.pk])
    register("R-1")
    one, html = _page(client, url)
    assert html.count("data-registration=") == 1 and pw.world.bank.name in html
    for i in range(2, 8):
        register(f"R-{i}")
    seven, html = _page(client, url)
    assert seven == one
    assert html.count("data-registration=") == 7
    monkeypatch.setattr("chanrong.core.paging.PAGE_SIZE", 3)
    _n, html = _page(client, url)
    assert html.count("data-registration=") == 3 and 'data-testid="pager-rpage"' in html
    _n, html = _page(client, url + "?rpage=3")
    assert html.count("data-registration=") == 1
