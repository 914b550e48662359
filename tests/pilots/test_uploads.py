"""Uploads: type by extension and content, size, storage under MEDIA_ROOT,
downloads only through the view that checks visibility."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chanrong.core.errors import ValidationFailed
from chanrong.pilots import services, uploads
from chanrong.pilots.models import Document
from tests.pilots.conftest import JPG, OLE2, PDF, PNG, client_for, ooxml, upload

pytestmark = pytest.mark.django_db

JIASHAN = "330421"


@pytest.mark.parametrize(
    ("name", "content", "allowed", "file_type"),
    [
        ("申报文件.pdf", PDF, uploads.PDF_ONLY, "pdf"),
        ("政策.PDF", PDF, uploads.MATERIAL_TYPES, "pdf"),
        ("说明.doc", OLE2, uploads.MATERIAL_TYPES, "doc"),
        ("统计.xls", OLE2, uploads.MATERIAL_TYPES, "xls"),
        ("说明.docx", ooxml("docx"), uploads.MATERIAL_TYPES, "docx"),
        ("统计.xlsx", ooxml("xlsx"), uploads.MATERIAL_TYPES, "xlsx"),
        ("照片.jpeg", JPG, uploads.MATERIAL_TYPES, "jpg"),
        ("截图.png", PNG, uploads.MATERIAL_TYPES, "png"),
    ],
)
def test_accepted_types(name, content, allowed, file_type):
    checked = uploads.check_upload(upload(name, content), allowed)
    assert checked.file_type == file_type
    assert checked.size == len(content)


@pytest.mark.parametrize(
    ("name", "content", "allowed", "message"),
    [
        ("申报文件.docx", ooxml("docx"), uploads.PDF_ONLY, "只接受 PDF"),
        ("申报文件.pdf", b"<html><script>alert(1)</script>", uploads.PDF_ONLY, "内容与扩展名"),
        ("程序.exe", b"MZ\x90\x00", uploads.MATERIAL_TYPES, "文件类型不符"),
        ("伪装.png", PDF, uploads.MATERIAL_TYPES, "内容与扩展名"),
        ("伪装.docx", ooxml("xlsx"), uploads.MATERIAL_TYPES, "内容与扩展名"),
        ("压缩包.xlsx", b"PK\x03\x04not really a zip", uploads.MATERIAL_TYPES, "内容与扩展名"),
        ("空.pdf", b"", uploads.PDF_ONLY, "空"),
        ("无扩展名", PDF, uploads.PDF_ONLY, "文件类型不符"),
    ],
)
def test_refused_types(name, content, allowed, message):
    with pytest.raises(ValidationFailed) as exc:
        uploads.check_upload(upload(name, content), allowed, field="file")
    assert exc.value.errors[0].field == "file"
    assert message in exc.value.errors[0].message


def test_size_limit_is_configurable(settings):
    settings.CHANRONG_PILOT_MAX_UPLOAD_BYTES = 1024
    big = SimpleUploadedFile("大.pdf", PDF + b"0" * 2000)
    with pytest.raises(ValidationFailed) as exc:
        uploads.check_upload(big, uploads.PDF_ONLY)
    assert "不能超过 1 KB" in exc.value.errors[0].message
    assert uploads.check_upload(upload("小.pdf"), uploads.PDF_ONLY).size == len(PDF)


def test_files_are_stored_under_media_root_with_unguessable_names(pilot, settings):
    user = pilot.applicant(JIASHAN)
    application = services.create_application(user, pilot.batch, {})
    doc = services.add_application_document(user, application, "material", upload("政策.png", PNG))
    path = Path(doc.file.path)
    assert path.is_file()
    assert Path(settings.MEDIA_ROOT) in path.parents
    assert "政策" not in path.name and len(path.stem) == 32
    assert doc.original_name == "政策.png"


def test_a_new_declaration_replaces_the_old(pilot):
    user = pilot.applicant(JIASHAN)
    application = services.create_application(user, pilot.batch, {})
    first = services.add_application_document(user, application, "declaration", upload("一.pdf"))
    second = services.add_application_document(user, application, "declaration", upload("二.pdf"))
    assert list(application.documents.filter(kind="declaration")) == [second]
    assert not Document.objects.filter(pk=first.pk).exists()


def test_a_refused_upload_leaves_nothing_behind(pilot, settings):
    user = pilot.applicant(JIASHAN)
    application = services.create_application(user, pilot.batch, {})
    with pytest.raises(ValidationFailed):
        services.add_application_document(user, application, "declaration", upload("x.png", PNG))
    assert not application.documents.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_download_checks_visibility(pilot, world):
    user = pilot.applicant(JIASHAN)
    application = services.create_application(user, pilot.batch, {})
    doc = services.add_application_document(user, application, "declaration", upload("申报.pdf"))
    url = f"/pilot/files/{doc.pk}/"

    response = client_for(user).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF

    # A draft is the applicant's own: province, another province, banks: 404.
    for name in ("gov_zhejiang", "gov_jiangsu", "bank_staff", "ent_user"):
        assert client_for(world.user(name)).get(url).status_code == 404
    # Anonymous: sent to log in, never served.
    response = client_for(None).get(url)
    assert response.status_code == 302 and "/accounts/login" in response["Location"]
    assert client_for(user).get("/pilot/files/999999/").status_code == 404
    # Never a public media URL in the pages.
    page = client_for(user).get(f"/pilot/applications/{application.pk}/").content.decode()
    assert "/media/" not in page and doc.file.name not in page
