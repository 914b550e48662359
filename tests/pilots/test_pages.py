"""The web pages: every step reachable, forms show field errors, the public
list works without login and shows only published results."""

from __future__ import annotations

import pytest

from chanrong.pilots import services
from chanrong.pilots.models import Application, ApplicationState, Batch, BatchState
from tests.pilots.conftest import (
    PDF,
    client_for,
    make_user,
    set_dates,
    start_year,
    submitted_application,
    upload,
)

pytestmark = pytest.mark.django_db

JIASHAN = "330421"


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _through_ministry(pilot, world, application):
    zhejiang = world.user("gov_zhejiang")
    services.recommend(zhejiang, application)
    services.upload_joint_report(zhejiang, pilot.batch, upload("联合上报.pdf"))
    services.confirm_submission(zhejiang, pilot.batch)
    services.score(pilot.ministry, application, {c.pk: 20 for c in pilot.batch.criteria.all()})
    services.decide(pilot.ministry, application, approve=True)


def test_public_list_without_login_shows_only_published(pilot, world):
    application = submitted_application(pilot.applicant(JIASHAN), pilot.batch)
    _through_ministry(pilot, world, application)
    anonymous = client_for(None)
    # Decided but not published: nothing public.
    page = _html(anonymous.get("/pilot/public/"))
    assert "嘉善县" not in page
    assert anonymous.get(f"/pilot/public/{pilot.batch.number}/").status_code == 404

    set_dates(pilot.batch, application_days=-20, provincial_days=-5)
    services.publish_batch(pilot.ministry, pilot.batch, title="第二批产融合作试点城市名单")
    page = _html(anonymous.get("/pilot/public/"))
    assert "第二批产融合作试点城市名单" in page and "嘉善县" in page
    page = _html(anonymous.get(f"/pilot/public/{pilot.batch.number}/"))
    assert "嘉善县" in page
    # A second, unpublished batch with an approved application stays hidden.
    other = Batch.objects.create(
        number=3,
        name="第三批",
        state=BatchState.OPEN,
        application_deadline=pilot.batch.application_deadline,
        provincial_deadline=pilot.batch.provincial_deadline,
    )
    assert anonymous.get(f"/pilot/public/{other.number}/").status_code == 404
    # The rest of the system still needs a login.
    assert anonymous.get("/pilot/").status_code == 302
    assert anonymous.get(f"/pilot/applications/{application.pk}/").status_code == 302


def test_applicant_pages_and_field_errors(pilot, world):
    client = client_for(world.user("gov_jiashan"))
    batch = pilot.batch
    assert "开始申报" in _html(client.get("/pilot/"))
    _html(client.get(f"/pilot/batches/{batch.pk}/apply/"))
    start = start_year(batch)
    response = client.post(
        f"/pilot/batches/{batch.pk}/apply/",
        {"kind": "new", "title": "方案", "start_year": start, "end_year": start + 4},
    )
    page = _html(response)
    assert "不超过3年" in page and "field--invalid" in page
    response = client.post(
        f"/pilot/batches/{batch.pk}/apply/",
        {"kind": "new", "title": "嘉善县实施方案", "start_year": start, "end_year": start + 2},
    )
    application = Application.objects.get(region_id=JIASHAN)
    assert response["Location"] == f"/pilot/applications/{application.pk}/"
    page = _html(client.get(response["Location"]))
    assert "提交前还需完成以下内容" in page

    page = _html(client.get(f"/pilot/applications/{application.pk}/plan/"))
    assert "指导思想" in page
    data = {f"section_{s.key}": f"{s.title}内容" for s in application.sections.all()}
    assert client.post(f"/pilot/applications/{application.pk}/plan/", data).status_code == 302

    page = _html(client.get(f"/pilot/applications/{application.pk}/indicators/"))
    assert "地区生产总值" in page
    response = client.post(
        f"/pilot/applications/{application.pk}/indicators/",
        {f"v_gdp_{start}": "abc", f"s_gdp_{start + 1}": "九"},
    )
    page = _html(response)
    # Both errors at once, each at its cell and named by indicator and year at the top.
    assert page.count('class="cell-error"') == 2
    assert page.count("无法识别的数值") >= 4
    assert f"{start + 1}年 目标增速（%）：无法识别的数值" in page
    assert "rows[" not in page
    assert f'aria-label="地区生产总值(GDP)(亿元)及增速(%) {start}年 目标值（亿元）"' in page
    values = {f"v_gdp_{y}": "714" for y in range(start, start + 3)}
    values.update({f"s_gdp_{y}": "9" for y in range(start, start + 3)})
    assert (
        client.post(f"/pilot/applications/{application.pk}/indicators/", values).status_code == 302
    )

    response = client.post(
        f"/pilot/applications/{application.pk}/documents/",
        {"kind": "declaration", "file": upload("申报文件.docx", b"PK\x03\x04")},
        follow=True,
    )
    assert "只接受 PDF" in _html(response)
    client.post(
        f"/pilot/applications/{application.pk}/documents/",
        {"kind": "declaration", "title": "嘉善县人民政府申报文件", "file": upload("申报.pdf", PDF)},
    )
    response = client.post(f"/pilot/applications/{application.pk}/submit/", follow=True)
    assert "申报已提交" in _html(response)
    application.refresh_from_db()
    assert application.state == ApplicationState.SUBMITTED


def test_submit_after_deadline_shows_the_message(pilot, world):
    from tests.pilots.conftest import fill_application

    application = fill_application(world.user("gov_jiashan"), pilot.batch)
    set_dates(pilot.batch, application_days=-1, provincial_days=5)
    client = client_for(world.user("gov_jiashan"))
    response = client.post(f"/pilot/applications/{application.pk}/submit/", follow=True)
    assert "截止，不能再提交申报" in _html(response)


def test_provincial_and_ministry_pages(pilot, world):
    application = submitted_application(pilot.applicant(JIASHAN), pilot.batch)
    zhejiang = client_for(world.user("gov_zhejiang"))
    page = _html(zhejiang.get(f"/pilot/province/{pilot.batch.pk}/"))
    assert "嘉善县" in page and "0 / 2" in page
    assert zhejiang.get("/pilot/province/").status_code == 302
    response = zhejiang.post(
        f"/pilot/applications/{application.pk}/opinion/", {"stance": "oppose", "text": ""}
    )
    assert "有保留或不同意时请说明理由" in _html(zhejiang.get(response["Location"]))
    zhejiang.post(f"/pilot/applications/{application.pk}/recommend/", {"comment": "推荐"})
    zhejiang.post(
        f"/pilot/province/{pilot.batch.pk}/joint-report/", {"file": upload("联合上报.pdf")}
    )
    response = zhejiang.post(
        f"/pilot/province/{pilot.batch.pk}/confirm/", {"note": ""}, follow=True
    )
    assert "推荐名单已确认上报" in _html(response)

    # 江苏 has no business here: 404, not a peek.
    jiangsu = client_for(world.user("gov_jiangsu"))
    assert jiangsu.get(f"/pilot/applications/{application.pk}/").status_code == 404
    assert jiangsu.post(f"/pilot/applications/{application.pk}/recommend/").status_code == 404
    # The county cannot review its own application: 403.
    county = client_for(world.user("gov_jiashan"))
    assert county.post(f"/pilot/applications/{application.pk}/decline/").status_code == 403
    assert county.get(f"/pilot/ministry/{pilot.batch.pk}/").status_code == 404

    ministry = client_for(pilot.ministry)
    page = _html(ministry.get(f"/pilot/ministry/{pilot.batch.pk}/"))
    assert "嘉善县" in page
    page = _html(ministry.get(f"/pilot/applications/{application.pk}/score/"))
    criteria = list(pilot.batch.criteria.all())
    bad = {f"c_{c.pk}": "20" for c in criteria}
    bad[f"c_{criteria[0].pk}"] = "999"
    assert "field--invalid" in _html(
        ministry.post(f"/pilot/applications/{application.pk}/score/", bad)
    )
    good = {f"c_{c.pk}": "20" for c in criteria}
    assert ministry.post(f"/pilot/applications/{application.pk}/score/", good).status_code == 302
    ministry.post(f"/pilot/applications/{application.pk}/decide/", {"decision": "approve"})
    page = _html(ministry.get(f"/pilot/applications/{application.pk}/"))
    assert "评审结论待公布" in page
    set_dates(pilot.batch, application_days=-20, provincial_days=-5)
    response = ministry.post(
        f"/pilot/batches/{pilot.batch.pk}/publish/", {"title": ""}, follow=True
    )
    assert "试点城市名单已公布" in _html(response)

    # Progress report by the pilot, tracking and export by the ministry.
    county_page = _html(county.get(f"/pilot/applications/{application.pk}/"))
    assert "填报进展报告" in county_page
    response = county.post(
        f"/pilot/applications/{application.pk}/reports/new/",
        {"year": application.start_year, "period": "H1", "summary": ""},
    )
    assert "field--invalid" in _html(response)
    response = county.post(
        f"/pilot/applications/{application.pk}/reports/new/",
        {"year": application.start_year, "period": "H1", "summary": "平台上线"},
    )
    report_url = response["Location"]
    county.post(report_url + "documents/", {"file": upload("进展.pdf")})
    county.post(report_url + "submit/")
    assert "已报送" in _html(ministry.get(report_url))
    page = _html(ministry.get("/pilot/tracking/"))
    assert "嘉善县" in page
    response = ministry.get("/pilot/tracking/export.xlsx")
    assert response.status_code == 200
    assert response.content[:2] == b"PK"


def test_batch_pages_for_the_ministry(pilot, world):
    client = client_for(pilot.ministry)
    _html(client.get("/pilot/batches/"))
    _html(client.get("/pilot/batches/new/"))
    response = client.post(
        "/pilot/batches/new/",
        {
            "number": 3,
            "name": "第三批",
            "application_deadline": "2030-08-31",
            "provincial_deadline": "2030-08-01",
            "eligible_level": "county",
            "max_period_years": 3,
            "province_quota": 2,
            "special_quota": 1,
            "outline": "basis | 产融合作基础 | 说明\ngoals | 试点目标",
        },
    )
    assert "不能早于申报截止日期" in _html(response)
    response = client.post(
        "/pilot/batches/new/",
        {
            "number": 3,
            "name": "第三批",
            "application_deadline": "2030-08-31",
            "provincial_deadline": "2030-09-15",
            "eligible_level": "county",
            "max_period_years": 3,
            "province_quota": 2,
            "special_quota": 1,
            "outline": "basis | 产融合作基础 | 说明\ngoals | 试点目标",
        },
    )
    batch = Batch.objects.get(number=3)
    assert [i["title"] for i in batch.outline] == ["产融合作基础", "试点目标"]
    page = _html(client.get(response["Location"]))
    assert "发布申报通知" in page
    client.post(
        f"/pilot/batches/{batch.pk}/documents/",
        {"kind": "outline", "title": "编制提纲", "file": upload("附件1.pdf")},
    )
    assert batch.documents.count() == 1
    client.post(f"/pilot/batches/{batch.pk}/rubric/", {"criteria": "总体 | 100 | 综合"})
    assert [c.name for c in batch.criteria.all()] == ["总体"]
    client.post(f"/pilot/batches/{batch.pk}/open/")
    batch.refresh_from_db()
    assert batch.state == BatchState.OPEN
    # Other government users see opened batches (and their attachments), not drafts.
    county = client_for(world.user("gov_jiashan"))
    assert county.get(f"/pilot/batches/{batch.pk}/").status_code == 200
    doc = batch.documents.get()
    assert county.get(f"/pilot/files/{doc.pk}/").status_code == 200
    assert county.get("/pilot/batches/new/").status_code == 403
    # Enterprises and banks have no pilot pages at all.
    assert client_for(world.user("ent_user")).get("/pilot/").status_code == 404
    assert (
        client_for(world.user("bank_staff")).get(f"/pilot/batches/{batch.pk}/").status_code == 404
    )


def test_corps_reviewer_sees_its_province_page(pilot, world):
    corps = make_user("corps", "660000")
    services.create_application(
        make_user("shihezi", "659001"), pilot.batch, {"title": "石河子市实施方案"}
    )
    page = _html(client_for(corps).get(f"/pilot/province/{pilot.batch.pk}/"))
    assert "0 / 1" in page


def test_every_page_renders_for_the_roles_that_use_it(pilot, world):
    application = submitted_application(pilot.applicant(JIASHAN), pilot.batch)
    pages = {
        "gov_national": [
            "/pilot/",
            "/pilot/batches/",
            f"/pilot/batches/{pilot.batch.pk}/",
            f"/pilot/batches/{pilot.batch.pk}/edit/",
            "/pilot/applications/",
            f"/pilot/applications/?batch={pilot.batch.pk}",
            f"/pilot/applications/{application.pk}/",
            f"/pilot/ministry/{pilot.batch.pk}/",
            "/pilot/tracking/?year=2024",
        ],
        "gov_zhejiang": [
            "/pilot/",
            "/pilot/applications/",
            f"/pilot/applications/{application.pk}/",
            "/pilot/tracking/",
        ],
        "gov_jiashan": ["/pilot/", f"/pilot/applications/{application.pk}/", "/pilot/tracking/"],
        "gov_jiashan_staff": ["/pilot/", f"/pilot/applications/{application.pk}/"],
        "admin": ["/pilot/", "/pilot/applications/", f"/pilot/applications/{application.pk}/"],
    }
    for username, urls in pages.items():
        client = client_for(world.user(username))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (username, url, response.status_code)
    # Not for them: 404 (not visible) or 403 (visible, not theirs to change).
    national = client_for(world.user("gov_national"))
    assert national.get("/pilot/province/").status_code == 404
    staff = client_for(world.user("gov_jiashan_staff"))
    assert staff.get(f"/pilot/applications/{application.pk}/edit/").status_code == 403
    assert staff.get(f"/pilot/applications/{application.pk}/score/").status_code == 403


def test_an_english_session_reads_stage_category_and_deadline_in_english(pilot, world):
    from django.conf import settings

    from tests.pilots.conftest import fill_application

    application = fill_application(world.user("gov_jiashan"), pilot.batch)
    client = client_for(world.user("gov_jiashan"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = _html(client.get(f"/pilot/applications/{application.pk}/"))
    assert 'data-stage="draft">Draft</span>' in page
    # the plan table's category: a stored code (产业发展), shown by its label
    assert "Industrial development" in page and ">产业发展<" not in page
    set_dates(pilot.batch, application_days=-1, provincial_days=5)
    response = client.post(f"/pilot/applications/{application.pk}/submit/", follow=True)
    page = _html(response)
    assert "The deadline for applications was" in page
    assert "you can no longer submit the application." in page
