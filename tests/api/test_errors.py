"""Every 4xx in the one error shape, with the field a client must fix."""

from __future__ import annotations

import pytest

from chanrong.core.codes import make_uscc
from chanrong.registry.models import Enterprise

from .conftest import assert_error_shape

pytestmark = pytest.mark.django_db

GOOD_USCC = make_uscc("91330421MA2B00001")


def valid_body(**overrides):
    body = {
        "uscc": GOOD_USCC,
        "name": "嘉善测试科技有限公司",
        "region_code": "330421",
        "industry_code": "C39",
        "employees": 30,
        "revenue_wan": 800.5,
        "assets_wan": 1200,
    }
    body.update(overrides)
    return body


def fields(body) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


def test_bad_uscc_check_digit_says_which_digit_was_expected(world, as_token):
    wrong = GOOD_USCC[:17] + ("0" if GOOD_USCC[17] != "0" else "1")
    body = assert_error_shape(
        as_token("gov_jiashan").post("/enterprises", valid_body(uscc=wrong)), 422, "invalid"
    )
    message = fields(body)["uscc"]
    assert f"第 18 位应为 {GOOD_USCC[17]}" in message
    assert not Enterprise.objects.filter(uscc=wrong).exists()


@pytest.mark.parametrize(
    ("code", "hint"),
    [("12345", "6 位数字"), ("33042a", "6 位数字"), ("999999", "不存在"), ("330400", "县级")],
)
def test_bad_region_code(world, as_token, code, hint):
    body = assert_error_shape(
        as_token("gov_national").post("/enterprises", valid_body(region_code=code)),
        422,
        "invalid",
    )
    assert list(fields(body)) == ["region_code"]
    assert hint in fields(body)["region_code"]


def test_bad_industry_code(world, as_token):
    body = assert_error_shape(
        as_token("gov_national").post("/enterprises", valid_body(industry_code="Z99")),
        422,
        "invalid",
    )
    assert "industry_code" in fields(body)


@pytest.mark.parametrize("field", ["revenue_wan", "assets_wan", "employees"])
def test_negative_amounts_are_refused(world, as_token, field):
    body = assert_error_shape(
        as_token("gov_jiashan").post("/enterprises", valid_body(**{field: -1})), 422, "invalid"
    )
    assert fields(body) == {field: "不能小于 0"}
    assert not Enterprise.objects.filter(uscc=GOOD_USCC).exists()


@pytest.mark.parametrize("value", ["abc", "12", "1e400", "NaN", True, [1], {"a": 1}])
def test_non_numeric_amounts_are_refused(world, as_token, value):
    body = assert_error_shape(
        as_token("gov_jiashan").post("/enterprises", valid_body(revenue_wan=value)),
        422,
        "invalid",
    )
    assert list(fields(body)) == ["revenue_wan"]


def test_several_errors_are_reported_together(world, as_token):
    body = assert_error_shape(
        as_token("gov_jiashan").post(
            "/enterprises", valid_body(region_code="1", revenue_wan=-5, employees="many")
        ),
        422,
    )
    assert set(fields(body)) == {"region_code", "revenue_wan", "employees"}


def test_missing_fields_are_named(world, as_token):
    body = assert_error_shape(as_token("gov_jiashan").post("/enterprises", {}), 422)
    assert set(fields(body)) == {"uscc", "name", "region_code", "industry_code"}
    assert set(fields(body).values()) == {"必填"}


def test_unknown_fields_are_refused(world, as_token):
    """Decision: unknown fields are a 422, so that a misspelt field (`revenue`
    for `revenue_wan`) is never silently ignored."""
    body = assert_error_shape(
        as_token("gov_jiashan").post("/enterprises", valid_body(revenue=100)), 422
    )
    assert fields(body) == {"revenue": "不允许的字段"}
    patch = as_token("gov_jiashan").patch(f"/enterprises/{world.ent.pk}", {"size": "large"})
    assert fields(assert_error_shape(patch, 422)) == {"size": "不允许的字段"}


def test_null_for_a_required_field_in_patch_is_refused(world, as_token):
    response = as_token("gov_jiashan").patch(f"/enterprises/{world.ent.pk}", {"name": None})
    assert list(fields(assert_error_shape(response, 422))) == ["name"]
    world.ent.refresh_from_db()
    assert world.ent.name == "嘉善精工机械有限公司"


@pytest.mark.parametrize(
    "raw",
    [b"{bad json", b'{"name": "x",}', b"\xff\xfe\x00", b"name=x&uscc=y"],
)
def test_malformed_json_is_400(world, as_token, raw):
    client = as_token("gov_jiashan")
    response = client.client.post(
        "/api/v1/enterprises", raw, content_type="application/json", headers=client.headers
    )
    assert_error_shape(response, 400, "bad_request")


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"text"', b"42", b"null"])
def test_json_that_is_not_an_object_is_422(world, as_token, raw):
    client = as_token("gov_jiashan")
    response = client.client.post(
        "/api/v1/enterprises", raw, content_type="application/json", headers=client.headers
    )
    assert response.status_code in (400, 422)
    assert_error_shape(response, response.status_code)


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"page": "x"}, {"page"}),
        ({"page": 0}, {"page"}),
        ({"page": -3}, {"page"}),
        ({"page": 10**30}, {"page"}),
        ({"page_size": 0}, {"page_size"}),
        ({"page_size": 201}, {"page_size"}),
        ({"page_size": "1.5"}, {"page_size"}),
        ({"page": "", "page_size": "abc"}, {"page", "page_size"}),
    ],
)
@pytest.mark.parametrize("path", ["/enterprises", "/regions", "/industries", "/institutions"])
def test_bad_pagination_params_are_422(world, as_token, path, params, bad):
    body = assert_error_shape(as_token("ent_user").get(path, params), 422, "invalid")
    assert set(fields(body)) == bad


@pytest.mark.parametrize(
    "params",
    [
        {"region": "99"},
        {"region": "999999"},
        {"industry": "ZZ"},
        {"industry": "Z99"},
        {"size": "huge"},
    ],
)
def test_bad_filters_are_422(world, as_token, params):
    body = assert_error_shape(as_token("gov_national").get("/enterprises", params), 422)
    assert set(fields(body)) == set(params)


def test_nul_characters_are_refused_not_500(world, as_token):
    client = as_token("gov_national")
    assert_error_shape(client.get("/enterprises", {"q": "a\x00b"}), 422)
    assert_error_shape(client.get("/regions", {"q": "\x00"}), 422)
    body = assert_error_shape(client.post("/enterprises", valid_body(name="嘉善\x00公司")), 422)
    assert list(fields(body)) == ["name"]


@pytest.mark.parametrize("path", ["/enterprises/abc", "/enterprises/0", f"/enterprises/{2**64}"])
def test_bad_ids_are_422(world, as_token, path):
    body = assert_error_shape(as_token("admin").get(path), 422)
    assert list(fields(body)) == ["id"]


@pytest.mark.parametrize(
    "path",
    [
        "/enterprises",
        "/enterprises/1",
        "/regions",
        "/regions/330421",
        "/industries",
        "/industries/C39",
        "/institutions",
        "/institutions/1",
    ],
)
def test_unauthenticated_is_401(client, path, db):
    response = client.get("/api/v1" + path)
    assert_error_shape(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer crt_not-a-real-token", "Bearer ", "Bearer x" * 100, "Basic dXNlcjpwYXNz", "crt_x"],
)
def test_bad_credentials_are_401(world, client, header):
    response = client.get("/api/v1/enterprises", headers={"Authorization": header})
    assert_error_shape(response, 401, "unauthenticated")


def test_not_found(world, as_token):
    client = as_token("admin")
    assert_error_shape(client.get("/enterprises/987654"), 404, "not_found")
    assert_error_shape(client.get("/regions/999999"), 404, "not_found")
    assert_error_shape(client.get("/industries/Z99"), 404, "not_found")
    assert_error_shape(client.get("/institutions/987654"), 404, "not_found")
    assert_error_shape(client.get("/no-such-resource"), 404, "not_found")
    assert_error_shape(client.get("/enterprises/1/nothing"), 404, "not_found")
    assert_error_shape(client.get("/"), 404, "not_found")


def test_wrong_method_is_405_with_allow(world, as_token):
    client = as_token("admin")
    response = client.client.put("/api/v1/enterprises/1", headers=client.headers)
    body = assert_error_shape(response, 405, "method_not_allowed")
    assert body["errors"] == []
    assert {m.strip() for m in response["Allow"].split(",")} == {"GET", "PATCH", "DELETE"}
    response = client.client.delete("/api/v1/regions", headers=client.headers)
    assert_error_shape(response, 405, "method_not_allowed")


def test_service_conflicts_keep_the_shape(world, as_token):
    """A ServiceError from the services (here: duplicate USCC) keeps its status and fields."""
    body = assert_error_shape(
        as_token("gov_jiashan").post("/enterprises", valid_body(uscc=world.ent2.uscc)), 422
    )
    assert fields(body) == {"uscc": "该统一社会信用代码已登记"}


def test_delete_refused_while_users_remain(world, as_token):
    response = as_token("gov_jiashan").delete(f"/enterprises/{world.ent.pk}")
    assert response.status_code in (409, 422)
    assert_error_shape(response, response.status_code)
    assert Enterprise.objects.filter(pk=world.ent.pk).exists()


def test_errors_are_translated_with_accept_language(world, as_token):
    response = as_token("gov_jiashan").get(
        "/enterprises", {"page": 0}, headers={"Accept-Language": "en"}
    )
    body = assert_error_shape(response, 422)
    assert body["errors"][0]["field"] == "page"


def test_oversized_body_is_413(world, as_token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = as_token("gov_jiashan")
    response = client.post("/enterprises", valid_body(name="大" * 2000))
    assert_error_shape(response, 413, "too_large")


def test_a_bug_is_a_json_500_and_reaches_the_log(world, as_token, monkeypatch, caplog):
    from django.test import Client

    from chanrong.registry import services

    def broken(actor, pk):
        raise RuntimeError("bug")

    monkeypatch.setattr(services, "get_visible_enterprise", broken)
    token = as_token("admin")
    client = Client(raise_request_exception=False)
    response = client.get(f"/api/v1/enterprises/{world.ent.pk}", headers=token.headers)
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "RuntimeError: bug" in caplog.text


def test_multipart_without_boundary_is_a_400_not_a_500(client, world):
    from chanrong.accounts.services import create_token

    raw = create_token(None, world.user("gov_jiashan"), "t").raw
    response = client.post(
        "/api/v1/pilot/reports/1/documents",
        data=b"--nothing\r\n",
        content_type="multipart/form-data",  # no boundary
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
