"""JSON bodies only as application/json: any other media type is a 415 in
the error shape, before anything is created (issue 15, finding 9)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from chanrong.demands.models import Demand
from tests.api.conftest import API, assert_error_shape

pytestmark = pytest.mark.django_db

BODY = {
    "kind": "debt",
    "amount_wan": 200,
    "term_months": 12,
    "purpose": "购置数控机床",
    "urgency": "normal",
}


@pytest.fixture
def ent_client(world, tokens) -> Client:
    return Client(headers={"Authorization": f"Bearer {tokens['ent_user']}"})


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "text/xml; charset=utf-8",
        "application/x-www-form-urlencoded",
        "application/json; charset=gbk",
        "application/jsonp",
        "",
    ],
)
def test_a_json_body_under_another_media_type_is_415(ent_client, content_type):
    before = Demand.objects.count()
    response = ent_client.post(f"{API}/demands", data=json.dumps(BODY), content_type=content_type)
    body = assert_error_shape(response, 415, "unsupported_media_type")
    assert body["errors"][0]["field"] == "Content-Type"
    assert Demand.objects.count() == before


def test_multipart_to_a_json_operation_is_415(ent_client):
    response = ent_client.post(f"{API}/demands", data={"payload": json.dumps(BODY)})
    assert_error_shape(response, 415, "unsupported_media_type")


def test_a_patch_is_held_to_the_same_rule(world, tokens):
    client = Client(headers={"Authorization": f"Bearer {tokens['ent_user']}"})
    response = client.patch(
        f"{API}/enterprises/{world.ent.pk}", data='{"employees": 5}', content_type="text/plain"
    )
    assert_error_shape(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=UTF-8"])
def test_application_json_with_or_without_charset_is_accepted(ent_client, content_type):
    response = ent_client.post(f"{API}/demands", data=json.dumps(BODY), content_type=content_type)
    assert response.status_code == 201, response.content


def test_uploads_still_take_multipart(world, tokens):
    """The import endpoint declares File/Form parameters: multipart is its format."""
    client = Client(headers={"Authorization": f"Bearer {tokens['gov_jiashan']}"})
    response = client.post(
        f"{API}/imports",
        {"kind": "enterprises", "file": SimpleUploadedFile("企业.csv", b"not a spreadsheet")},
    )
    assert response.status_code in {201, 202}, response.content  # a job, with its own verdict
