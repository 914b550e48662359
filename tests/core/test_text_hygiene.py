"""Text hygiene at the edge: bidi controls, zero-width and control characters
refused in names and codes (API, web forms, imports), free text keeps line
breaks and emoji, codes are NFKC-normalised (issue 15, finding 10)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from chanrong.accounts.services import create_token
from chanrong.core import text
from chanrong.core.codes import make_uscc
from chanrong.core.errors import ValidationFailed
from chanrong.registry.models import Enterprise
from chanrong.registry.services import clean_enterprise_data
from tests.api.conftest import API, assert_error_shape

SPOOFED = "嘉善\u202eGNP.exe\u200d有限公司"

INVISIBLE = [
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings, overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
    "\u200e", "\u200f", "\u061c",  # marks
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",  # zero-width
    "\x00", "\x07", "\n", "\x7f", "\x85", "\u00ad", "\u2028", "\ue000",
]  # fmt: skip


@pytest.mark.parametrize("ch", INVISIBLE)
def test_names_refuse_every_invisible_or_control_character(ch):
    assert text.name_problem(f"嘉善{ch}精工") is not None
    with pytest.raises(ValidationError):
        text.validate_name(f"嘉善{ch}精工")


@pytest.mark.parametrize(
    "name", ["嘉善精工机械（浙江）有限公司", "ABC Co., Ltd.", "嘉善·精工 ２号"]
)
def test_ordinary_names_pass_unchanged(name):
    assert text.clean_name(name) == name  # no NFKC: full-width brackets are kept


def test_codes_are_nfkc_normalised_then_checked():
    assert text.clean_code("９１３３０４２１ＭＡ") == "91330421MA"
    with pytest.raises(ValueError):
        text.clean_code("9133\u200b0421")


def test_free_text_keeps_line_breaks_emoji_and_chinese_punctuation():
    body = "第一，扩产。\n第二：采购（设备）。\t👨\u200d🔧"
    assert text.clean_text(body) == body
    for bad in ("\u202e", "\u2066", "\x00", "\x1b"):
        with pytest.raises(ValueError):
            text.clean_text(f"扩产{bad}")


@pytest.mark.parametrize(
    ("field", "kind"),
    [
        ("name", "name"),
        ("institution_name", "name"),
        ("title", "name"),
        ("uscc", "code"),
        ("debtor_uscc", "code"),
        ("region_code", "code"),
        ("purpose", "text"),
        ("description", "text"),
    ],
)
def test_api_fields_are_classified_by_name(field, kind):
    assert text.kind_of_field(field) == kind


def _valid_enterprise(**overrides):
    body = {
        "uscc": make_uscc("91330421MA2B0D001"),
        "name": "嘉善测试科技有限公司",
        "region_code": "330421",
        "industry_code": "C39",
        "employees": 30,
        "revenue_wan": 800,
        "assets_wan": 1200,
    }
    return {**body, **overrides}


def _bearer(world, username: str) -> Client:
    token = create_token(None, world.user(username), "tests").raw
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def gov(world):
    return _bearer(world, "gov_jiashan")


def _fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


@pytest.mark.django_db
def test_api_refuses_the_spoofed_name_of_the_finding(gov):
    response = gov.post(
        f"{API}/enterprises", _valid_enterprise(name=SPOOFED), content_type="application/json"
    )
    assert_error_shape(response, 422, "invalid")
    assert "U+202E" in _fields(response)["name"]
    assert not Enterprise.objects.filter(name__contains="GNP").exists()


@pytest.mark.django_db
def test_api_refuses_zero_width_in_a_patched_name(world, gov):
    response = gov.patch(
        f"{API}/enterprises/{world.ent.pk}",
        {"name": "嘉善精工\u200b机械有限公司"},
        content_type="application/json",
    )
    assert_error_shape(response, 422, "invalid")
    assert set(_fields(response)) == {"name"}


@pytest.mark.django_db
def test_api_takes_full_width_codes_as_ascii(gov):
    uscc = make_uscc("91330421MA2B0D002")
    full_width = uscc.translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHJKLMNPQRTUWXY"}
    )
    response = gov.post(
        f"{API}/enterprises",
        _valid_enterprise(uscc=full_width, region_code="３３０４２１", industry_code="Ｃ３９"),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    created = Enterprise.objects.get(uscc=uscc)
    assert (created.region_id, created.industry_id) == ("330421", "C39")


@pytest.mark.django_db
def test_api_refuses_bidi_controls_in_free_text(world):
    client = _bearer(world, "ent_user")
    body = {"kind": "debt", "amount_wan": 200, "term_months": 12, "urgency": "normal"}
    refused = client.post(
        f"{API}/demands", {**body, "purpose": "扩产\u202e"}, content_type="application/json"
    )
    assert_error_shape(refused, 422, "invalid")
    assert set(_fields(refused)) == {"purpose"}
    accepted = client.post(
        f"{API}/demands",
        {**body, "purpose": "扩产：一、采购设备；\n二、补充流动资金 👨\u200d🔧"},
        content_type="application/json",
    )
    assert accepted.status_code == 201, accepted.content


@pytest.mark.django_db
def test_web_form_refuses_the_spoofed_name(world):
    client = Client()
    client.force_login(world.user("gov_jiashan"))
    response = client.post("/enterprises/new/", _valid_enterprise(name=SPOOFED))
    assert response.status_code == 200  # the form again, with the error
    assert "U+202E" in response.content.decode()
    assert not Enterprise.objects.filter(name__contains="GNP").exists()


@pytest.mark.django_db
def test_import_rows_are_cleaned_by_the_same_rule(world):
    with pytest.raises(ValidationFailed) as caught:
        clean_enterprise_data(_valid_enterprise(name="嘉善\u2066精工\u2069有限公司"))
    assert [e.field for e in caught.value.errors] == ["name"]
