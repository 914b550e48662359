"""Import pages, the polled progress, downloads, the /imports API, background
runs through the database task backend, and the enterprise export."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from chanrong.core.importing.services import create_job, run_job
from chanrong.core.models import ImportJob
from chanrong.registry.models import Enterprise

from ..tasks.conftest import run_db_worker
from .conftest import HEADER, enterprise_row, uscc, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.imports.urls")]
API = "/api/t/imports"


def _client(world, name: str) -> Client:
    client = Client()
    client.force_login(world.user(name))
    return client


def _upload(client, data: bytes, name="企业.xlsx", mode="all", kind="enterprises"):
    return client.post(
        reverse("core:import_new"),
        {"kind": kind, "mode": mode, "file": SimpleUploadedFile(name, data)},
    )


def _sheet(content: bytes, index: int = 0):
    return openpyxl.load_workbook(io.BytesIO(content)).worksheets[index]


def test_upload_page_imports_and_shows_the_result(world):
    client = _client(world, "gov_jiashan")
    page = client.get(reverse("core:import_new"))
    assert page.status_code == 200 and "企业导入模板" in page.content.decode()
    response = _upload(client, xlsx([HEADER, enterprise_row(500), enterprise_row(501)]))
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("core:import_detail", args=[job.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "已完成" in detail and "新增 2 条" in detail
    assert Enterprise.objects.filter(uscc__in=[uscc(500), uscc(501)]).count() == 2


def test_errors_on_the_page_and_in_the_report(world):
    client = _client(world, "gov_jiashan")
    rows = [HEADER, enterprise_row(510), enterprise_row(511, employees="很多")]
    response = _upload(client, xlsx(rows))
    page = client.get(response["Location"]).content.decode()
    assert "未导入" in page and "应为整数：很多" in page
    job = ImportJob.objects.get()
    report = client.get(reverse("core:import_report", args=[job.pk]))
    assert report["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = _sheet(report.content)
    assert [c.value for c in sheet[1]] == ["行号", "列", "列名", "单元格内容", "问题", "级别"]
    assert [c.value for c in sheet[2]][:5] == [3, "E", "从业人员（人）", "很多", "应为整数：很多"]


def test_upload_form_refuses_bad_files_with_a_message(world, settings):
    client = _client(world, "gov_jiashan")
    response = _upload(client, b"%PDF-1.4 not a sheet", name="企业.xlsx")
    assert response.status_code == 200 and "这是 PDF 文件" in response.content.decode()
    settings.CHANRONG_IMPORT_MAX_BYTES = 100
    response = _upload(client, xlsx([HEADER, enterprise_row(520)]))
    assert "超过上限 100 B" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_enterprise_users_cannot_import(world):
    client = _client(world, "ent_user")
    assert client.get(reverse("core:imports")).status_code == 403
    assert client.get(reverse("core:import_new")).status_code == 403
    assert _upload(client, xlsx([HEADER, enterprise_row(530)])).status_code == 403
    assert client.get(reverse("core:import_template", args=["enterprises"])).status_code == 403


def test_institution_users_import_only_their_loan_book(world):
    """A bank imports its loans and their status reports (risk), nothing of
    the registry's: the form offers only its kinds."""
    client = _client(world, "bank_staff")
    assert client.get(reverse("core:imports")).status_code == 200
    page = client.get(reverse("core:import_new")).content.decode()
    assert 'value="risk_loans"' in page and 'value="enterprises"' not in page
    assert _upload(client, xlsx([HEADER, enterprise_row(530)])).status_code == 200  # form error
    assert not ImportJob.objects.exists()
    assert client.get(reverse("core:import_template", args=["enterprises"])).status_code == 403


def test_someone_elses_job_is_a_404(world):
    job = create_job(
        world.user("gov_jiashan"),
        "enterprises",
        filename="a.xlsx",
        data=xlsx([HEADER, enterprise_row(540)]),
    )
    for name in ("gov_jiangsu", "gov_zhejiang", "ent_user"):
        client = _client(world, name)
        assert client.get(reverse("core:import_detail", args=[job.pk])).status_code == 404
        assert client.get(reverse("core:import_report", args=[job.pk])).status_code == 404
    assert (
        _client(world, "admin").get(reverse("core:import_detail", args=[job.pk])).status_code == 200
    )


def test_template_has_chinese_headers_and_an_explanation_sheet(world):
    response = _client(world, "gov_jiashan").get(
        reverse("core:import_template", args=["enterprises"])
    )
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    headers = [c.value for c in workbook.worksheets[0][1]]
    assert headers[:4] == ["统一社会信用代码", "企业名称", "所在地区代码", "行业代码"]
    guide = workbook["填写说明"]
    assert [c.value for c in guide[1]] == ["列名", "是否必填", "格式", "示例", "说明"]
    assert [c.value for c in guide[2]][:2] == ["统一社会信用代码", "必填"]
    # The blank template imports as "no data", never as an error of the headers.
    job = create_job(
        world.user("gov_jiashan"), "enterprises", filename="t.xlsx", data=response.content
    )
    assert job.status == "rejected" and job.message == "表头下方没有数据行"


def test_large_file_runs_in_the_background_and_the_page_polls(
    world, settings, django_capture_on_commit_callbacks
):
    settings.CHANRONG_IMPORT_INLINE_ROWS = 2
    settings.TASKS = {
        "default": {"BACKEND": "chanrong.core.taskdb.DatabaseBackend", "QUEUES": ["default"]}
    }
    client = _client(world, "gov_jiashan")
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, xlsx([HEADER, *[enterprise_row(600 + i) for i in range(5)]]))
    job = ImportJob.objects.get()
    assert job.background and job.status == "pending"
    page = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in page and "排队中" in page
    fragment = client.get(reverse("core:import_progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in fragment
    run_db_worker()
    job.refresh_from_db()
    assert job.status == "done" and job.created_count == 5
    fragment = client.get(reverse("core:import_progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert fragment["HX-Refresh"] == "true" and "every 1s" not in fragment.content.decode()
    assert "已完成" in client.get(response["Location"]).content.decode()


def test_run_job_twice_does_nothing_the_second_time(world):
    job = create_job(
        world.user("gov_jiashan"),
        "enterprises",
        filename="a.xlsx",
        data=xlsx([HEADER, enterprise_row(700)]),
        run=False,
    )
    assert run_job(job.pk) == "done"
    assert run_job(job.pk) == "done"
    assert Enterprise.objects.filter(uscc=uscc(700)).count() == 1


# --- API ------------------------------------------------------------------------------


def test_api_upload_status_issues_report(world):
    client = _client(world, "gov_jiashan")
    rows = [HEADER, enterprise_row(800), enterprise_row(801, region="320508")]
    response = client.post(
        API, {"kind": "enterprises", "file": SimpleUploadedFile("e.xlsx", xlsx(rows))}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "rejected" and body["error_rows"] == 1
    job_id = body["id"]
    assert client.get(f"{API}/{job_id}").json()["status"] == "rejected"
    issues = client.get(f"{API}/{job_id}/issues").json()
    assert issues["count"] == 1
    assert issues["results"][0] | {"value": ""} == {
        "row": 3,
        "column": "C",
        "header": "所在地区代码",
        "value": "",
        "message": "只能导入本辖区内的企业",
        "level": "error",
    }
    report = client.get(f"{API}/{job_id}/report")
    assert report.status_code == 200 and _sheet(report.content).max_row == 2
    listed = client.get(API).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == job_id
    valid_only = client.post(
        API,
        {
            "kind": "enterprises",
            "mode": "valid_only",
            "file": SimpleUploadedFile("e.xlsx", xlsx(rows)),
        },
    ).json()
    assert valid_only["status"] == "done" and valid_only["created_count"] == 1


def test_api_refusals(world, settings):
    gov = _client(world, "gov_jiashan")
    bad = gov.post(
        API, {"kind": "enterprises", "file": SimpleUploadedFile("x.csv", b"\x00\x01\x02")}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "file"
    unknown = gov.post(
        API, {"kind": "nonsense", "file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n")}
    )
    assert unknown.status_code == 404
    ent = _client(world, "ent_user")
    forbidden = ent.post(
        API, {"kind": "enterprises", "file": SimpleUploadedFile("x.csv", b"a,b\n")}
    )
    assert forbidden.status_code == 403
    assert ent.get(f"{API}/999999").status_code == 404
    settings.CHANRONG_IMPORT_MAX_BYTES = 10
    big = gov.post(API, {"kind": "enterprises", "file": SimpleUploadedFile("x.csv", b"a,b\n" * 10)})
    assert big.status_code == 422 and "超过上限" in big.json()["errors"][0]["message"]
    assert gov.get(f"{API}/templates/enterprises").status_code == 200


# --- export ---------------------------------------------------------------------------


def test_export_follows_filters_and_visibility_and_imports_back(world):
    create_job(
        world.user("admin"),
        "enterprises",
        filename="a.xlsx",
        data=xlsx([HEADER, enterprise_row(900), enterprise_row(901, industry="C34")]),
    )
    client = _client(world, "gov_jiashan")
    export = reverse("core:export", args=["enterprises"])
    # Contacts are personal fields: the purpose is asked for (core.export_policy).
    response = client.post(f"{export}?industry=C39", {"purpose": "核对导入结果"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    sheet = _sheet(content)
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("统一社会信用代码", "企业名称", "所在地区代码")
    assert {r[0] for r in rows[1:]} == {uscc(900)}  # C39 only, 苏州 not visible anyway
    everything = b"".join(client.post(export, {"purpose": "核对导入结果"}).streaming_content)
    exported = {r[0] for r in list(_sheet(everything).iter_rows(values_only=True))[1:]}
    assert world.ent.uscc in exported and world.ent_js.uscc not in exported
    # The exported file imports back unchanged: no warnings about its extra columns.
    job = create_job(
        world.user("gov_jiashan"), "enterprises", filename="back.xlsx", data=everything
    )
    assert job.status == "done", job.issues
    assert (job.created_count, job.updated_count) == (0, 0) and not job.issues
    bank = b"".join(
        _client(world, "bank_staff").post(export, {"purpose": "核对导入结果"}).streaming_content
    )
    assert {r[0] for r in list(_sheet(bank).iter_rows(values_only=True))[1:]} == {world.ent.uscc}


def test_templates_for_every_kind_and_the_list_version_choice(world):
    from chanrong.registry import services as registry

    lst = registry.create_list(
        world.user("gov_jiashan"),
        {"list_type": "key_enterprises", "name": "白名单（网页导入测试）"},
    )
    version = registry.start_version(world.user("gov_jiashan"), lst)
    client = _client(world, "gov_jiashan")
    for kind in ("enterprises", "projects", "list_members", "operating_data"):
        response = client.get(reverse("core:import_template", args=[kind]))
        assert response.status_code == 200, kind
        assert _sheet(response.content)["A1"].value
    page = client.get(reverse("core:import_new")).content.decode()
    assert f'value="{version.pk}"' in page and "白名单（网页导入测试）" in page
    data = xlsx([["统一社会信用代码", "理由"], [world.ent.uscc, "网页导入"]])
    response = client.post(
        reverse("core:import_new"),
        {
            "kind": "list_members",
            "mode": "all",
            "list_members__list_version": str(version.pk),
            "file": SimpleUploadedFile("m.xlsx", data),
        },
    )
    assert response.status_code == 302
    assert ImportJob.objects.get().status == "done"
    missing = client.post(
        reverse("core:import_new"),
        {"kind": "list_members", "mode": "all", "file": SimpleUploadedFile("m.xlsx", data)},
    )
    assert "请选择一个您可以编制的草稿版本" in missing.content.decode()
