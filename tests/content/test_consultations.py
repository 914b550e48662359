"""留言咨询: validation by field, the addressee alone answers, masking on
the public list, the rate limit, the API."""

from __future__ import annotations

import pytest
from django.test import Client

from chanrong.content.models import ANONYMISED_NAME, Consultation
from chanrong.content.services import consultations
from chanrong.core.errors import NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import AuditEntry

from .conftest import ask_data, new_consultation

pytestmark = pytest.mark.django_db


def test_validation_by_field_writes_nothing(world):
    with pytest.raises(ValidationFailed) as caught:
        consultations.submit(
            None,
            {
                "subject": "<b>x</b>",
                "question": "太短",
                "addressee": "agency:999999",
                "name": "",
                "phone": "abc",
                "email": "not-an-email",
                "extra": "1",
            },
            ip="10.0.0.1",
        )
    fields = {e.field for e in caught.value.errors}
    assert fields == {"subject", "question", "addressee", "name", "phone", "email", "extra"}
    with pytest.raises(ValidationFailed) as caught:
        consultations.submit(None, ask_data(world, phone="", email=""), ip="10.0.0.1")
    assert [e.field for e in caught.value.errors] == ["phone"]
    with pytest.raises(ValidationFailed) as caught:
        consultations.submit(None, ask_data(world, question="x" * 2001), ip="10.0.0.1")
    assert [e.field for e in caught.value.errors] == ["question"]
    assert Consultation.objects.count() == 0


def test_web_form_shows_errors_by_field_and_confirms(world):
    client = Client()
    bad = client.post(
        "/public/ask/", ask_data(world, question="<a href=x>hi</a> 这是一个问题", name="")
    )
    assert bad.status_code == 422
    html = bad.content.decode()
    assert "不能包含 HTML" in html and 'id="id_name_error"' in html
    good = client.post("/public/ask/", ask_data(world), follow=True)
    assert good.status_code == 200
    created = Consultation.objects.get()
    assert f"您的留言编号为 {created.pk}" in good.content.decode()
    # Contact details are encrypted at rest.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT asker_phone FROM content_consultation")
        assert cursor.fetchone()[0].startswith("enc:v1:")


def test_only_the_addressee_answers(world, login):
    item = new_consultation(world)
    url = f"/public/manage/consultations/{item.pk}/answer/"
    for outsider in ("bank_staff", "gov_jiangsu", "ent_user"):
        assert login(outsider).post(url, {"answer": "越权答复"}).status_code == 404, outsider
    with pytest.raises(NotFound):
        consultations.get_in_queue(world.user("bank2_staff"), item.pk)
    # The province above sees it (to reassign) but is not the addressee.
    with pytest.raises(NotAllowed):
        consultations.answer(world.user("gov_zhejiang"), item, {"answer": "上级答复"})
    response = login("gov_jiashan_staff").post(
        url, {"answer": "可以申请，需提供贷款合同。", "public": "on"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == "published" and item.answered_by == world.user("gov_jiashan_staff")
    actions = set(
        AuditEntry.objects.filter(object_id=str(item.pk)).values_list("action", flat=True)
    )
    assert {"content.consultation.answer", "content.consultation.publish"} <= actions


def test_public_list_masks_the_asker(world):
    item = new_consultation(world, email="zhang@example.com")
    consultations.answer(world.user("gov_jiashan"), item, {"answer": "可以申请。", "public": True})
    private = new_consultation(world, subject="未公开的咨询")
    consultations.answer(world.user("gov_jiashan"), private, {"answer": "仅答复本人。"})
    client = Client()
    html = client.get("/public/answers/").content.decode()
    assert "张**" in html and "张小明" not in html
    assert "13800001234" not in html and "138****1234" not in html and "zhang@" not in html
    assert "未公开的咨询" not in html
    assert client.get(f"/public/answers/{private.pk}/").status_code == 404
    rows = client.get("/api/v1/public/consultations").json()["results"]
    assert [(r["id"], r["asker"]) for r in rows] == [(item.pk, "张**")]
    assert "phone" not in rows[0] and "email" not in rows[0]


def test_reassign_within_the_region(world, login):
    item = new_consultation(world, addressee=f"agency:{world.gov_zhejiang.pk}")
    with pytest.raises(ValidationFailed):
        consultations.reassign(world.user("gov_zhejiang"), item, world.gov_jiangsu.pk)
    consultations.reassign(world.user("gov_zhejiang"), item, world.gov_jiashan.pk)
    item.refresh_from_db()
    assert item.agency == world.gov_jiashan and item.state == "submitted"
    queue = login("gov_jiashan").get("/public/manage/consultations/").content.decode()
    assert item.subject in queue


def test_rate_limit_per_address(world, settings):
    settings.CHANRONG_CONSULTATION_RATE = "2/hour"
    client = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(2):
        assert (
            client.post(
                "/api/v1/public/consultations", ask_data(world), content_type="application/json"
            ).status_code
            == 201
        )
    refused = client.post(
        "/api/v1/public/consultations", ask_data(world), content_type="application/json"
    )
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled" and int(refused["Retry-After"]) >= 1
    assert client.post("/public/ask/", ask_data(world)).status_code == 429
    assert Consultation.objects.count() == 2
    # Another address is not affected.
    other = Client(REMOTE_ADDR="10.9.9.10")
    assert other.post("/public/ask/", ask_data(world)).status_code == 302


def test_api_post_validation_is_by_field(world):
    response = Client().post(
        "/api/v1/public/consultations",
        {**ask_data(world), "question": "短", "email": "x"},
        content_type="application/json",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert {e["field"] for e in body["errors"]} == {"question", "email"}


def test_pipl_export_and_anonymise_find_the_askers_questions(world):
    from chanrong.content.pipl import anonymise_consultations, export_consultations

    person = world.user("ent_user")
    person.phone = "13800001234"
    person.save(update_fields=["phone"])
    anonymous = new_consultation(world)  # same phone, asked without signing in
    other = new_consultation(world, phone="13900009999")
    rows = export_consultations(person)
    assert [(r["id"], r["phone"]) for r in rows] == [(anonymous.pk, "13800001234")]
    assert anonymise_consultations(person, world.user("admin")) == {"consultations": 1}
    anonymous.refresh_from_db()
    other.refresh_from_db()
    assert anonymous.asker_phone == "" and anonymous.asker_name == ANONYMISED_NAME
    assert consultations.public_view(anonymous).asker == "匿名"
    assert other.asker_name == "张小明"
