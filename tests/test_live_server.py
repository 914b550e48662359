"""The live server the browser tests drive answers overlapping requests
correctly. On the in-memory SQLite test database its request threads share one
connection; unserialised, 8 overlapping requests for a page that exists gave
404s and 500s ("bad parameter or other API misuse") — the cause of a browser
test that failed once in CI when htmx's replaced preview was still running on
the server (tests/conftest.py, `live_server`)."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client

from tests.conftest import PASSWORD
from tests.policy.conftest import policy_world  # noqa: F401 (fixture)
from tests.policy.pagekit import loan, programme

pytestmark = [
    pytest.mark.sqlite("the in-memory test database's shared connection is SQLite's"),
    pytest.mark.django_db(transaction=True),
]


def test_overlapping_requests_all_answer_the_page(policy_world, live_server):  # noqa: F811
    pw = policy_world
    prog = programme(pw)
    own = loan(pw)
    client = Client()
    assert client.login(username="ent_user", password=PASSWORD)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    url = f"{live_server.url}/policy/apply/{prog.pk}/claim/?loan={own.pk}"

    def status(_) -> int:
        request = urllib.request.Request(url, headers={"Cookie": cookie})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                body = response.read().decode()
                return response.status if own.contract_no in body else -1
        except urllib.error.HTTPError as exc:
            return exc.code

    with ThreadPoolExecutor(8) as pool:
        answers = Counter(pool.map(status, range(160)))
    assert answers == Counter({200: 160})
