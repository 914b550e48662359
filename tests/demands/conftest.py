"""Fixtures for demands and products: published products for the world's two
banks, a demand factory, and a throwaway API with the routers mounted (the
lead mounts them under /api/v1 in chanrong/api/api.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from chanrong.demands import services
from chanrong.finance import services as products

API = "/testapi"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def product_data(**overrides) -> dict:
    data = {
        "name": "善企信用贷",
        "kind": "credit",
        "amount_min_wan": 10,
        "amount_max_wan": 500,
        "term_min_months": 3,
        "term_max_months": 36,
        "rate_type": "fixed",
        "rate_min": "3.45",
        "rate_max": "6.5",
        "processing_days": 5,
        "exclude_blacklisted": False,
    }
    data.update(overrides)
    return data


def publish(user, **overrides):
    product = products.create_product(user, product_data(**overrides))
    return products.publish_product(user, product)


@pytest.fixture
def bank_products(world):
    """One published credit product at each bank; both answer a 200 万 demand."""
    return (
        publish(world.user("bank_staff")),
        publish(world.user("bank2_staff"), name="工行经营快贷", amount_max_wan=1000),
    )


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


@pytest.fixture
def make_demand(world):
    def make(*, publish_it: bool = True, user: str = "ent_user", **overrides):
        demand = services.create_demand(world.user(user), demand_data(**overrides))
        if publish_it:
            demand = services.publish_demand(world.user(user), demand)
        return demand

    return make


def dispatch_of(demand, institution):
    return demand.dispatches.get(institution=institution)


class ApiClient:
    def __init__(self, client: Client):
        self.client = client

    def get(self, path: str, params=None):
        return self.client.get(API + path, query_params=params)

    def post(self, path: str, data=None):
        return self.client.post(API + path, data=data or {}, content_type="application/json")

    def patch(self, path: str, data=None):
        return self.client.patch(API + path, data=data or {}, content_type="application/json")

    def delete(self, path: str):
        return self.client.delete(API + path)


@pytest.fixture
def api_as(world, settings):
    settings.ROOT_URLCONF = "tests.demands.urls"

    def make(username: str) -> ApiClient:
        client = Client()
        client.force_login(world.user(username))
        return ApiClient(client)

    return make


WAN = Decimal(10000)
