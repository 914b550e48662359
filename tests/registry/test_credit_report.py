"""The 信用报告 (issue 19 item 3): the same visibility as the credit records
(authorised bank sees it, an unauthorised bank or another county 404), every
view and PDF download audited, the facts, grouped records and summary on the
page, in the API (schema) and in a PDF."""

from __future__ import annotations

import base64
import re
import zlib

import pytest

from chanrong.core.models import AuditEntry
from chanrong.registry.services import credit
from tests.registry.test_credit_records import row
from tests.risk.test_api import Caller

pytestmark = pytest.mark.django_db


def _unescape(match: re.Match) -> bytes:
    code = match[1]
    if code[:1].isdigit():
        return bytes([int(code, 8)])
    return {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(code, code)


def pdf_text(body: bytes) -> str:
    """The text shown by the PDF's Tj operators (reportlab writes its CID
    font's strings as UTF-16BE in ASCII85 + Flate streams)."""
    shown = []
    for raw in re.findall(rb"stream\r?\n(.*?)endstream", body, re.S):
        content = zlib.decompress(base64.a85decode(raw.strip(), adobe=True))
        for string in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", content, re.S):
            data = re.sub(rb"\\([0-7]{1,3}|.)", _unescape, string, flags=re.S)
            shown.append(data.decode("utf-16-be", errors="replace"))
    return "\n".join(shown)


def _records(world):
    credit.record_credit_records(
        world.user("gov_jiashan"),
        [
            row(world),
            row(world, kind="judgment", reference="（2026）浙0421民初9号", source="嘉善县人民法院"),
            row(world, kind="tax", reference="TAX-1", source="嘉善县税务局", amount=""),
        ],
    )


def test_page_and_pdf_visibility_and_audit(world, client):
    _records(world)
    page_url = f"/enterprises/{world.ent.pk}/credit-report/"
    pdf_url = f"/enterprises/{world.ent.pk}/credit-report.pdf"
    client.force_login(world.user("bank_staff"))
    page = client.get(page_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert world.ent.name in html and world.ent.uscc in html
    assert "嘉市监处罚〔2026〕1号" in html and "（2026）浙0421民初9号" in html
    assert "有不良记录" in html and "本报告仅供授权机构用于融资审查" in html
    assert AuditEntry.objects.filter(action="credit.report.view").count() == 1
    pdf = client.get(pdf_url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    body = pdf.content
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type /Page\b", body)) >= 1
    assert b"STSong-Light" in body
    text = pdf_text(body)
    assert world.ent.name in text and world.ent.uscc in text
    assert "本报告仅供授权机构用于融资审查" in text
    assert AuditEntry.objects.filter(action="credit.report.download").count() == 1
    assert (
        f"/enterprises/{world.ent.pk}/credit-report/"
        in client.get(f"/enterprises/{world.ent.pk}/credit-records/").content.decode()
    )
    for user in ("bank2_staff", "gov_jiangsu", "ent2_user"):
        client.force_login(world.user(user))
        assert client.get(page_url).status_code == 404, user
        assert client.get(pdf_url).status_code == 404, user
    assert AuditEntry.objects.filter(action__startswith="credit.report.").count() == 2


def get(caller: Caller, path: str):
    return caller.client.get("/api/v1" + path, headers=caller.headers)


def test_api_report_schema_and_summary(world):
    _records(world)
    bank = Caller(world.user("bank_staff"))
    response = get(bank, f"/enterprises/{world.ent.pk}/credit-report")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["facts"]["uscc"] == world.ent.uscc
    assert [s["kind"] for s in data["sections"]] == [
        "tax", "social_insurance", "housing_fund", "utility",
        "real_estate", "penalty", "judgment", "customs",
    ]  # fmt: skip
    summary = data["summary"]
    assert summary["total"] == 3 and summary["adverse"] is True
    assert summary["counts"]["penalty"] == 1 and summary["counts"]["customs"] == 0
    assert summary["latest_judgment"]["reference"] == "（2026）浙0421民初9号"
    assert data["footer"] == "本报告仅供授权机构用于融资审查"
    assert AuditEntry.objects.filter(action="credit.report.view").count() == 1
    schema = bank.client.get("/api/v1/openapi.json").json()
    assert "/api/v1/enterprises/{id}/credit-report" in schema["paths"]
    for user in ("bank2_staff", "gov_jiangsu"):
        other = Caller(world.user(user))
        assert get(other, f"/enterprises/{world.ent.pk}/credit-report").status_code == 404
    clean = get(Caller(world.user("ent2_user")), f"/enterprises/{world.ent2.pk}/credit-report")
    assert clean.status_code == 200 and clean.json()["summary"]["adverse"] is False
