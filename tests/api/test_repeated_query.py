"""A query parameter given twice is a 422 naming it, on any API path."""

import pytest

pytestmark = pytest.mark.django_db


def test_repeated_query_parameter_is_refused(client, world):
    client.force_login(world.user("gov_jiashan"))
    response = client.get("/api/v1/enterprises?page=1&page=2")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"] == [{"field": "page", "message": "只能出现一次"}]
    assert client.get("/api/v1/enterprises?page=1").status_code == 200


def test_web_pages_are_not_affected(client, world):
    client.force_login(world.user("gov_jiashan"))
    assert client.get("/enterprises/?page=1&page=1").status_code == 200
