"""Fixtures for the matching surfaces (API, pages, policy, privacy): products
at both banks of the `world` fixture, some that fit a 200 万 credit demand
and some that do not, and a published demand of ent_user.

Import with `from .surface_fixtures import *` in a test module."""

from __future__ import annotations

import pytest
from django.test import Client

from chanrong.demands import services as demands
from tests.demands.conftest import product_data, publish  # noqa: F401 (re-exported)

API = "/api/v1"


def demand_data(**overrides) -> dict:
    data = {
        "kind": "debt",
        "amount_wan": 200,
        "term_months": 12,
        "purpose": "购置数控机床",
        "rate_max": "6",
        "collateral_offered": [],
        "urgency": "normal",
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def catalogue(world):
    """{name: product}: two fitting and one too-small product per bank."""
    bank, bank2 = world.user("bank_staff"), world.user("bank2_staff")
    return {
        "bank_fit": publish(bank, name="善企信用贷"),
        "bank_fit2": publish(bank, name="善企快贷", amount_max_wan=300, rate_min="4.2"),
        "bank_small": publish(bank, name="善企微贷", amount_max_wan=50),
        "bank2_fit": publish(bank2, name="工行经营快贷", amount_max_wan=1000),
        "bank2_small": publish(bank2, name="工行小额贷", amount_max_wan=100),
    }


@pytest.fixture
def make_demand(world):
    def make(*, publish_it: bool = True, user: str = "ent_user", **overrides):
        demand = demands.create_demand(world.user(user), demand_data(**overrides))
        if publish_it:
            demand = demands.publish_demand(world.user(user), demand)
        return demand

    return make


@pytest.fixture
def demand(catalogue, make_demand):
    """ent_user's published 200 万 demand, dispatched to both banks."""
    return make_demand()


@pytest.fixture
def client_as(world):
    def make(username: str | None) -> Client:
        client = Client()
        if username:
            client.force_login(world.user(username))
        return client

    return make


def product_ids(catalogue, *names) -> set[int]:
    return {catalogue[n].pk for n in names}
