"""A receivable's attachments: the creditor uploads PDF, JPG, PNG or OFD
(checked by content, size-capped) when registering or later while the
receivable is unconfirmed; the debtor and the banks that see the receivable
download them; everyone else gets 404. Through the services, the pages and
the API (multipart)."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chanrong.accounts.services import create_token
from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.supplychain import services
from chanrong.supplychain.models import Receivable, ReceivableAttachment

from .conftest import TODAY, invoice, receivable_data, register

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def _ofd() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OFD.xml", "<ofd:OFD/>")
        archive.writestr("Doc_0/Document.xml", "<ofd:Document/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_creditor_attaches_each_allowed_type_and_it_is_audited(sc):
    receivable = register(sc)
    ent = sc.user("ent_user")
    files = [
        ("contract", _file("采购合同.pdf", PDF)),
        ("invoice", _file("发票.ofd", _ofd())),
        ("delivery", _file("送货单.png", PNG)),
        ("delivery", _file("验收单.jpeg", JPG)),
    ]
    done = services.add_attachments(ent, receivable, files)
    assert [a.file_type for a in done] == ["pdf", "ofd", "png", "jpg"]
    assert done[0].original_name == "采购合同.pdf" and done[0].size == len(PDF)
    assert "采购合同" not in done[0].file.name  # stored under an unguessable name
    assert (
        AuditEntry.objects.filter(
            action="supplychain.attachment.add", object_id=str(receivable.pk)
        ).count()
        == 4
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("合同.pdf", b"MZ\x90\x00 not a pdf at all"),  # an executable renamed
        ("合同.exe", PDF),  # a type not allowed
        ("合同.docx", PDF),
        ("发票.ofd", PDF),  # a PDF called OFD
        ("空.pdf", b""),
    ],
)
def test_a_file_is_refused_by_type_or_content_and_nothing_is_written(sc, name, content):
    receivable = register(sc)
    with pytest.raises(ValidationFailed) as caught:
        services.add_attachment(sc.user("ent_user"), receivable, "contract", _file(name, content))
    assert caught.value.errors[0].field == "file"
    assert not ReceivableAttachment.objects.exists()


def test_a_file_above_the_cap_is_refused(sc, settings):
    settings.CHANRONG_SUPPLYCHAIN_MAX_UPLOAD_BYTES = 1024
    receivable = register(sc)
    big = PDF + b"0" * 2048
    with pytest.raises(ValidationFailed):
        services.add_attachment(sc.user("ent_user"), receivable, "contract", _file("a.pdf", big))
    assert not ReceivableAttachment.objects.exists()


def test_only_the_creditor_attaches_and_only_while_unconfirmed(sc, _media):
    receivable = register(sc)
    with pytest.raises(NotAllowed):
        services.add_attachment(sc.user("core_user"), receivable, "other", _file("a.pdf", PDF))
    attachment = services.add_attachment(
        sc.user("ent_user"), receivable, "contract", _file("a.pdf", PDF)
    )
    services.confirm(sc.user("core_user"), receivable, today=TODAY)
    receivable.refresh_from_db()
    with pytest.raises(Conflict):
        services.add_attachment(sc.user("ent_user"), receivable, "other", _file("b.pdf", PDF))
    attachment.refresh_from_db()
    with pytest.raises(Conflict):
        services.remove_attachment(sc.user("ent_user"), attachment)
    stored = list(_media.rglob("*.pdf"))
    assert len(stored) == 1  # the refused upload left no file behind


def test_a_bad_file_refuses_the_whole_registration(sc):
    data = receivable_data(sc)
    files = [("contract", _file("合同.pdf", PDF)), ("invoice", _file("发票.pdf", b"<html>"))]
    with pytest.raises(ValidationFailed):
        services.register_with_attachments(sc.user("ent_user"), data, files, today=TODAY)
    assert not Receivable.objects.exists() and not ReceivableAttachment.objects.exists()
    done = services.register_with_attachments(sc.user("ent_user"), data, files[:1], today=TODAY)
    assert done.attachments.count() == 1


def test_who_may_download(sc, world):
    receivable = register(sc)
    attachment = services.add_attachment(
        sc.user("ent_user"), receivable, "contract", _file("合同.pdf", PDF)
    )
    url = reverse("supplychain:attachment", args=[attachment.pk])
    # Unconfirmed: the creditor and the debtor; no bank is offered it yet.
    for name, status in [
        ("ent_user", 200),
        ("core_user", 200),
        ("bank_staff", 404),
        ("ent2_user", 404),
        ("gov_jiashan", 404),
        ("admin", 404),
    ]:
        response = _client(sc.user(name)).get(url)
        assert response.status_code == status, name
    services.confirm(sc.user("core_user"), receivable, today=TODAY)
    response = _client(sc.user("bank_staff")).get(url)  # offered to the authorised bank
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment;" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF
    assert _client(sc.user("bank2_staff")).get(url).status_code == 404  # not authorised


def test_pages_register_with_files_upload_later_and_remove(sc):
    today = timezone.localdate()
    client = _client(sc.user("ent_user"))
    first = invoice()
    response = client.post(
        reverse("supplychain:receivable_new"),
        {
            "kind": "ordinary",
            "debtor_uscc": sc.core.uscc,
            "contract_no": "HT-ATT-1",
            "amount": "500000",
            "issued_on": str(today - timedelta(days=3)),
            "due_on": str(today + timedelta(days=60)),
            "rows": "1",
            "invoice-0-code": first["code"],
            "invoice-0-number": first["number"],
            "attachment_contract": [_file("合同.pdf", PDF)],
            "attachment_delivery": [_file("送货单.png", PNG), _file("验收单.jpg", JPG)],
        },
    )
    assert response.status_code == 302
    receivable = Receivable.objects.get(contract_no="HT-ATT-1")
    assert sorted(receivable.attachments.values_list("kind", flat=True)) == [
        "contract",
        "delivery",
        "delivery",
    ]
    detail = client.get(reverse("supplychain:receivable", args=[receivable.pk]))
    assert detail.status_code == 200
    assert "合同.pdf" in detail.content.decode() and 'data-testid="attachment-form"' in (
        detail.content.decode()
    )
    upload = reverse("supplychain:attachment_upload", args=[receivable.pk])
    bad = client.post(upload, {"kind": "invoice", "file": _file("发票.pdf", b"GIF89a")})
    assert bad.status_code == 422 and receivable.attachments.count() == 3
    assert (
        client.post(upload, {"kind": "invoice", "file": _file("发票.ofd", _ofd())}).status_code
        == 302
    )
    assert receivable.attachments.count() == 4
    # The debtor sees the list, but neither the upload form nor a remove button.
    page = _client(sc.user("core_user")).get(detail.request["PATH_INFO"]).content.decode()
    assert "发票.ofd" in page and 'data-testid="attachment-form"' not in page
    assert 'data-action="remove-attachment"' not in page
    assert _client(sc.user("core_user")).post(upload, {"kind": "other"}).status_code == 403
    target = receivable.attachments.get(original_name="发票.ofd")
    response = client.post(reverse("supplychain:attachment_remove", args=[target.pk]))
    assert response.status_code == 302 and receivable.attachments.count() == 3


def test_api_upload_list_download_and_delete(sc, world):
    receivable = register(sc)
    token = create_token(None, sc.user("ent_user"), "t").raw
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client()
    base = f"/api/v1/supplychain/receivables/{receivable.pk}/attachments"
    created = client.post(base, {"kind": "contract", "file": _file("合同.pdf", PDF)}, **auth)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["kind"] == "contract" and body["file_type"] == "pdf" and body["size"] == len(PDF)
    wrong = client.post(base, {"kind": "contract", "file": _file("x.png", PDF)}, **auth)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "file"
    assert (
        client.post(base, {"kind": "nonsense", "file": _file("a.pdf", PDF)}, **auth).status_code
        == 422
    )
    listed = client.get(base, **auth).json()
    assert [a["original_name"] for a in listed["results"]] == ["合同.pdf"]
    download = client.get(f"{base}/{body['id']}", **auth)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    # The debtor reads them; another enterprise, and an id under another receivable, 404.
    core = {"HTTP_AUTHORIZATION": f"Bearer {create_token(None, sc.user('core_user'), 't').raw}"}
    assert client.get(f"{base}/{body['id']}", **core).status_code == 200
    assert client.delete(f"{base}/{body['id']}", **core).status_code == 403
    other = {"HTTP_AUTHORIZATION": f"Bearer {create_token(None, sc.user('ent2_user'), 't').raw}"}
    assert client.get(base, **other).status_code == 404
    assert client.get(f"{base}/{body['id']}", **other).status_code == 404
    second = register(sc)
    wrong_parent = f"/api/v1/supplychain/receivables/{second.pk}/attachments/{body['id']}"
    assert client.get(wrong_parent, **auth).status_code == 404
    assert client.delete(f"{base}/{body['id']}", **auth).status_code == 204
    assert not ReceivableAttachment.objects.exists()
