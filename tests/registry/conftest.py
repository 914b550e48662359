"""Fixtures for the registry: a pinned "today", a throwaway API with the
registry's routers, and helpers that draft and publish list versions."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from chanrong.registry import services

API = "/testapi"
TODAY = date(2026, 3, 15)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def today(monkeypatch):
    """Freeze timezone.localdate() (what services and querysets call) at a
    date the test can move: `today.set(date(...))`."""

    class Clock:
        value = TODAY

        def set(self, value: date) -> None:
            self.value = value

        def __call__(self, *args, **kwargs) -> date:
            return self.value

    clock = Clock()
    monkeypatch.setattr("django.utils.timezone.localdate", clock)
    return clock


@pytest.fixture
def jiashan_list(world):
    """嘉善's 重点企业白名单, kept by the county's 经信局."""
    return services.create_list(
        world.user("gov_jiashan_staff"),
        {"list_type": "key_enterprises", "name": "嘉善县重点企业白名单", "sector": "manufacturing"},
    )


def publish(world, lst, members, *, on=None, reason="符合条件", removed=()):
    """Draft the next version of `lst` with `members` added and `removed`
    (entries' enterprises) taken off, then submit and publish it."""
    staff, admin = world.user("gov_jiashan_staff"), world.user("gov_jiashan")
    version = services.start_version(staff, lst)
    for enterprise in members:
        services.add_list_entry(staff, version, enterprise=enterprise, reason=reason)
    for enterprise in removed:
        entry = services.find_entry(version, enterprise=enterprise)
        services.remove_list_entry(staff, version, entry, reason="不再符合条件")
    services.submit_version(staff, version)
    return services.publish_version(admin, version, effective_from=on)


class ApiClient:
    def __init__(self, client: Client):
        self.client = client

    def get(self, path: str, params=None):
        return self.client.get(API + path, query_params=params)

    def post(self, path: str, data=None):
        return self.client.post(API + path, data=data or {}, content_type="application/json")

    def patch(self, path: str, data=None):
        return self.client.patch(API + path, data=data or {}, content_type="application/json")

    def put(self, path: str, data=None):
        return self.client.put(API + path, data=data or {}, content_type="application/json")

    def delete(self, path: str):
        return self.client.delete(API + path)


@pytest.fixture
def api_as(world, settings):
    settings.ROOT_URLCONF = "tests.registry.urls"

    def make(username: str) -> ApiClient:
        client = Client()
        client.force_login(world.user(username))
        return ApiClient(client)

    return make


@pytest.fixture
def web_as(world, settings):
    settings.ROOT_URLCONF = "tests.registry.urls"

    def make(username: str) -> Client:
        client = Client()
        client.force_login(world.user(username))
        return client

    return make


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}
