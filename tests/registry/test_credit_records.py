"""Credit records (信用信息): government of the region records them by API push
or by file, idempotently; errors by row and column; visibility follows the
enterprise (an institution only under the enterprise's authorisation, each
look audited); the registry signal names the enterprises after commit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from chanrong.core.errors import NotAllowed, ValidationFailed
from chanrong.core.importing.services import create_job
from chanrong.core.models import AuditEntry
from chanrong.registry import signals
from chanrong.registry.models import CreditRecord, DataAuthorisation
from chanrong.registry.services import credit
from tests.imports.conftest import csv_bytes, xlsx
from tests.risk.test_api import Caller

pytestmark = pytest.mark.django_db

HEADER = [
    "统一社会信用代码",
    "企业名称",
    "信息类别",
    "发生日期",
    "处罚机关",
    "文号",
    "违法事实",
    "罚款金额",
    "严重程度",
]


def row(world, **fields):
    return {
        "uscc": world.ent.uscc,
        "kind": "penalty",
        "occurred_on": (timezone.localdate() - timedelta(days=10)).isoformat(),
        "source": "嘉善县市场监督管理局",
        "reference": "嘉市监处罚〔2026〕1号",
        "summary": "未按规定公示年度报告",
        "amount": "5000",
        **fields,
    }


def test_push_is_idempotent_and_audited(world, django_capture_on_commit_callbacks):
    gov = world.user("gov_jiashan_staff")
    heard = []
    signals.credit_records_changed.connect(
        lambda sender, ids=(), **kw: heard.append(ids), weak=False, dispatch_uid="t"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            first = credit.record_credit_records(
                gov,
                [
                    row(world),
                    row(
                        world,
                        kind="judgment",
                        reference="（2026）浙0421民初1234号",
                        source="嘉善县人民法院",
                    ),
                ],
            )
        assert (first.created, first.updated) == (2, 0)
        assert heard == [(world.ent.pk,)]
        again = credit.record_credit_records(
            gov,
            [
                row(world),
                row(
                    world,
                    kind="judgment",
                    reference="（2026）浙0421民初1234号",
                    source="嘉善县人民法院",
                ),
            ],
        )
        assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
        # Full-width digits in the number are the same record.
        changed = credit.record_credit_records(
            gov, [row(world, reference="嘉市监处罚〔２０２６〕１号", amount="8000")]
        )
        assert (changed.created, changed.updated) == (0, 1)
    finally:
        signals.credit_records_changed.disconnect(dispatch_uid="t")
    assert CreditRecord.objects.count() == 2
    assert CreditRecord.objects.get(kind="penalty").amount == 8000
    assert AuditEntry.objects.filter(action="credit.create").count() == 2
    assert AuditEntry.objects.filter(action="credit.update").count() == 1


def test_bad_rows_write_nothing_and_name_the_row(world):
    gov = world.user("gov_jiashan")
    with pytest.raises(ValidationFailed) as caught:
        credit.record_credit_records(
            gov,
            [
                row(world),
                row(world, uscc=world.ent_js.uscc),  # 苏州: outside 嘉善
                row(world, kind="rumour", amount="-1", occurred_on="2999-01-01"),
                row(world),  # repeats row 0
            ],
        )
    fields = {e.field for e in caught.value.errors}
    assert fields == {
        "rows.1.uscc", "rows.2.kind", "rows.2.amount", "rows.2.occurred_on", "rows.3.reference",
    }  # fmt: skip
    assert not CreditRecord.objects.exists()


def test_only_government_and_admins_record(world):
    for name in ("ent_user", "bank_staff"):
        with pytest.raises(NotAllowed):
            credit.record_credit_records(world.user(name), [row(world)])
    done = credit.record_credit_records(
        world.user("gov_jiangsu"), [row(world, uscc=world.ent_js.uscc)]
    )
    assert done.created == 1


def test_visibility_follows_the_enterprise_and_institution_views_are_audited(world):
    credit.record_credit_records(
        world.user("gov_jiashan"), [row(world), row(world, uscc=world.ent2.uscc)]
    )
    assert CreditRecord.objects.visible_to(world.user("gov_jiashan")).count() == 2
    assert CreditRecord.objects.visible_to(world.user("gov_jiangsu")).count() == 0
    assert list(
        CreditRecord.objects.visible_to(world.user("ent_user")).values_list("enterprise", flat=True)
    ) == [world.ent.pk]
    assert CreditRecord.objects.visible_to(world.user("ent2_user")).count() == 1
    bank, bank2 = Caller(world.user("bank_staff")), Caller(world.user("bank2_staff"))
    response = bank.client.get(
        f"/api/v1/enterprises/{world.ent.pk}/credit-records", headers=bank.headers
    )
    assert response.status_code == 200, response.content
    assert [r["reference"] for r in response.json()["results"]] == ["嘉市监处罚〔2026〕1号"]
    assert AuditEntry.objects.filter(action="credit.view", object_id=str(world.ent.pk)).count() == 1
    # Not authorised by ent2, and ent not authorised bank2: 404.
    for caller, enterprise in ((bank, world.ent2), (bank2, world.ent)):
        response = caller.client.get(
            f"/api/v1/enterprises/{enterprise.pk}/credit-records", headers=caller.headers
        )
        assert response.status_code == 404
    DataAuthorisation.objects.filter(enterprise=world.ent).update(revoked_at=timezone.now())
    response = bank.client.get(
        f"/api/v1/enterprises/{world.ent.pk}/credit-records", headers=bank.headers
    )
    assert response.status_code == 404


def test_api_push(world):
    gov = Caller(world.user("gov_jiashan"))
    body = {"rows": [row(world)]}
    response = gov.client.post(
        "/api/v1/credit-records", body, content_type="application/json", headers=gov.headers
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0}
    response = gov.client.post(
        "/api/v1/credit-records", body, content_type="application/json", headers=gov.headers
    )
    assert response.json() == {"created": 0, "updated": 0, "unchanged": 1}
    bad = {"rows": [row(world, uscc=world.ent_js.uscc)]}
    response = gov.client.post(
        "/api/v1/credit-records", bad, content_type="application/json", headers=gov.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "rows.0.uscc"
    bank = Caller(world.user("bank_staff"))
    response = bank.client.post(
        "/api/v1/credit-records", body, content_type="application/json", headers=bank.headers
    )
    assert response.status_code == 403


def test_import_by_file_with_errors_by_row_and_column(world):
    gov = world.user("gov_jiashan")
    day = date(2026, 1, 5)
    good = [
        world.ent.uscc,
        world.ent.name,
        "行政处罚",
        day,
        "嘉善县生态环境局",
        "嘉环罚〔2026〕3号",
        "超标排放",
        20000,
        "较重",
    ]
    rows = [
        HEADER,
        good,
        [
            world.ent2.uscc,
            "别的公司",
            "涉诉",
            day,
            "嘉善县人民法院",
            "（2026）浙0421民初9号",
            "买卖合同纠纷",
            "12万元",
            None,
        ],
        [world.ent_js.uscc, None, "海关", day, "杭州海关", "H-1", None, None, None],
        [world.ent.uscc, None, "八卦", day, "某局", "X-1", None, None, None],
    ]
    job = create_job(gov, "credit_records", filename="c.xlsx", data=xlsx(rows))
    assert job.status == "rejected"
    errors = {(i["row"], i["column"]) for i in job.issues if i["level"] == "error"}
    assert errors == {(3, "B"), (4, "A"), (5, "C")}
    assert not CreditRecord.objects.exists()
    job = create_job(
        gov,
        "credit_records",
        filename="c.csv",
        data=csv_bytes([HEADER, good, good[:5] + ["嘉环罚〔2026〕4号", "", "", ""]]),
    )
    assert job.status == "done", job.issues
    assert job.created_count == 2
    record = CreditRecord.objects.get(reference="嘉环罚〔2026〕3号")
    assert (record.amount, record.extra, record.occurred_on) == (20000, {"severity": "较重"}, day)
    again = create_job(gov, "credit_records", filename="c.csv", data=csv_bytes([HEADER, good]))
    assert (again.status, again.created_count, again.updated_count) == ("done", 0, 0)


def test_template_downloads_for_government_only(world, client):
    client.force_login(world.user("gov_jiashan"))
    response = client.get("/imports/templates/credit_records/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    client.force_login(world.user("bank_staff"))
    assert client.get("/imports/templates/credit_records/").status_code == 403


def test_page_for_whoever_sees_the_enterprise(world, client):
    credit.record_credit_records(world.user("gov_jiashan"), [row(world)])
    url = f"/enterprises/{world.ent.pk}/credit-records/"
    client.force_login(world.user("gov_jiashan"))
    page = client.get(url)
    assert page.status_code == 200 and "嘉市监处罚〔2026〕1号" in page.content.decode()
    assert "kind=credit_records" in page.content.decode()
    assert (
        f"/enterprises/{world.ent.pk}/credit-records/"
        in client.get(f"/enterprises/{world.ent.pk}/").content.decode()
    )
    client.force_login(world.user("bank_staff"))
    assert "嘉市监处罚〔2026〕1号" in client.get(url + "?kind=penalty").content.decode()
    assert AuditEntry.objects.filter(action="credit.view").count() == 1
    client.force_login(world.user("bank2_staff"))
    assert client.get(url).status_code == 404
    client.force_login(world.user("ent2_user"))
    assert client.get(url).status_code == 404
