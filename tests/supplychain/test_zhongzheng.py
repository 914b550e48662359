"""中征应收账款 linkage (issue 19 item 4): export → edit → import round trip
in CSV and JSON, scope (government its region, a bank its own financings,
others 404), bad rows by row and column with nothing written, re-import
idempotent, every export and change audited."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chanrong.core.errors import ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.supplychain import zhongzheng
from chanrong.supplychain.models import ZhongzhengLink, ZhongzhengStatus

from .conftest import TODAY, confirmed, finance

pytestmark = pytest.mark.django_db


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(dict.fromkeys(k for row in rows for k in row)))
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def test_round_trip_scope_and_idempotence(sc, client):
    financed = confirmed(sc)
    finance(sc, financed)
    other = confirmed(sc, amount="500000.00")
    gov, bank = sc.user("gov_jiashan"), sc.user("bank_staff")
    data, count = zhongzheng.export_linkage(gov, "csv")
    rows = _csv_rows(data)
    assert count == 2 and {r["应收账款编号"] for r in rows} == {
        zhongzheng.reference_of(financed.pk),
        zhongzheng.reference_of(other.pk),
    }
    assert AuditEntry.objects.filter(action="export.download").count() == 1
    bank_rows = json.loads(zhongzheng.export_linkage(bank, "json")[0])["rows"]
    assert [r["reference"] for r in bank_rows] == [zhongzheng.reference_of(financed.pk)]
    assert bank_rows[0]["financing_registration_no"]
    assert zhongzheng.export_rows(sc.user("gov_jiangsu")) == []
    assert zhongzheng.export_rows(sc.user("bank2_staff")) == []

    # The file comes back from 中征 with the registration number and status.
    for row in rows:
        row["中登网登记编号"] = "0693" + row["应收账款编号"][2:] + "123456"
        row["中征平台确权状态"] = "已确权"
        row["中征状态日期"] = "2026-06-02"
    back = _csv(rows)
    result = zhongzheng.import_linkage(gov, zhongzheng.parse_file(back, "csv"))
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    link = ZhongzhengLink.objects.get(receivable=financed)
    assert link.status == ZhongzhengStatus.CONFIRMED and link.registration_no.startswith("0693")
    again = zhongzheng.import_linkage(gov, zhongzheng.parse_file(back, "csv"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert AuditEntry.objects.filter(action="supplychain.zhongzheng.import").count() == 2

    # JSON from the bank: one status changes; the other receivable is not its own.
    bank_rows[0]["zz_status"] = "disputed"
    body = json.dumps({"format": zhongzheng.FORMAT, "rows": bank_rows}).encode()
    changed = zhongzheng.import_linkage(bank, zhongzheng.parse_file(body, "json"))
    assert (changed.updated, changed.unchanged) == (1, 0)
    link.refresh_from_db()
    assert link.status == ZhongzhengStatus.DISPUTED
    foreign = [{"reference": zhongzheng.reference_of(other.pk), "zz_status": "已确权"}]
    with pytest.raises(ValidationFailed) as refused:
        zhongzheng.import_linkage(
            sc.user("bank_staff"),
            zhongzheng.parse_file(
                json.dumps({"format": zhongzheng.FORMAT, "rows": foreign}).encode(), "json"
            ),
        )
    assert [e.field for e in refused.value.errors] == ["rows.1.reference"]

    # Pages: the export link audits, outsiders get 404.
    client.force_login(gov)
    assert client.get("/supplychain/zhongzheng/").status_code == 200
    response = client.get("/supplychain/zhongzheng/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    client.force_login(sc.user("ent_user"))
    assert client.get("/supplychain/zhongzheng/").status_code == 404
    assert client.get("/supplychain/zhongzheng/export.json").status_code == 404


def test_bad_rows_by_row_and_column_write_nothing(sc, client):
    receivable = confirmed(sc)
    gov = sc.user("gov_jiashan")
    good = zhongzheng.reference_of(receivable.pk)
    back = _csv(
        [
            {"应收账款编号": good, "中登网登记编号": "06930000000000000001", "中征平台确权状态": "已确权"},
            {"应收账款编号": "YS12", "中登网登记编号": "bad-no", "中征平台确权状态": "可能"},
            {"应收账款编号": good, "中登网登记编号": "", "中征平台确权状态": "", "中征状态日期": "2026-13-01"},
            {"应收账款编号": "YS9999999999", "中征平台确权状态": "已确权"},
        ]
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as failed:
        zhongzheng.import_linkage(gov, zhongzheng.parse_file(back, "csv"))
    assert sorted(e.field for e in failed.value.errors) == [
        "rows.3.reference",
        "rows.3.zz_registration_no",
        "rows.3.zz_status",
        "rows.4.reference",
        "rows.4.zz_registration_no",
        "rows.4.zz_status_on",
        "rows.5.reference",
    ]
    assert ZhongzhengLink.objects.count() == 0
    with pytest.raises(ValidationFailed):
        zhongzheng.parse_file(b'{"rows": []}', "json")
    with pytest.raises(ValidationFailed):
        zhongzheng.parse_file(b"\xff\xfe", "csv")
    client.force_login(gov)
    page = client.post(
        "/supplychain/zhongzheng/",
        {"format": "csv", "file": SimpleUploadedFile("back.csv", back, "text/csv")},
    )
    assert page.status_code == 400 and "rows.3.zz_status" in page.content.decode()
    assert ZhongzhengLink.objects.count() == 0


def test_demo_builder_fills_links_and_the_export_shows_them(sc):
    from types import SimpleNamespace

    from chanrong.demo.builders import zhongzheng as builder

    financed = confirmed(sc)
    finance(sc, financed)
    waiting = confirmed(sc, amount="300000.00")
    ctx = SimpleNamespace(today=TODAY, batch_size=500, counts={})
    builder.build(ctx)
    assert ctx.counts["zhongzheng_links"] == 2
    rows = {r["reference"]: r for r in zhongzheng.export_rows(sc.user("gov_jiashan"))}
    assert rows[zhongzheng.reference_of(financed.pk)]["zz_status"] == "已确权"
    assert (
        rows[zhongzheng.reference_of(financed.pk)]["zz_registration_no"]
        == rows[zhongzheng.reference_of(financed.pk)]["financing_registration_no"]
    )
    assert rows[zhongzheng.reference_of(waiting.pk)]["zz_status"] == "待确权"
