"""The pilots demo builder on top of the foundation's demo (scale 0.05)."""

from __future__ import annotations

import pytest

from chanrong.demo import services as demo
from chanrong.demo.builders import accounts, enterprises, organisations
from chanrong.demo.builders import pilots as pilots_builder
from chanrong.pilots import services
from chanrong.pilots.models import (
    Application,
    Batch,
    BatchState,
    Document,
    ProvincialReview,
    ReviewState,
)
from tests.pilots.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(refdata_loaded, settings, monkeypatch):
    settings.CHANRONG_DEMO_PASSWORD = "Demo-password-for-tests-1"
    steps = (organisations, enterprises, accounts)
    try:
        from chanrong.demo.builders import insights as insights_builder
        from chanrong.events.models import Event

        Event.objects.exists()  # the events tables exist (their migrations have landed)
        steps += (insights_builder,)
    except Exception:  # noqa: BLE001 - without them the pilots builder imports the plan itself
        pass
    monkeypatch.setattr(demo, "STEPS", (*steps, pilots_builder))
    return demo.build_demo(seed=5, scale=0.05)


def test_demo_programme(built):
    assert built.counts["pilot_batches"] == 3
    second = Batch.objects.get(number=2)
    assert second.state == BatchState.PUBLISHED
    names = {a.region_id for a in services.published_pilots(second)}
    assert names == {"330421", "330212", "330500"}
    jiashan = Application.objects.get(batch=second, region_id="330421")
    assert jiashan.indicator_plan is not None
    assert (jiashan.start_year, jiashan.end_year) == (2021, 2023)
    assert [s.title for s in jiashan.sections.all()][:2] == ["指导思想", "基本原则"]
    assert jiashan.documents.filter(kind="declaration").exists()
    # Quotas hold in the demo too: 浙江 two, 宁波 one.
    for unit, quota in (("330000", 2), ("330200", 1)):
        used = ProvincialReview.objects.filter(
            batch=second,
            review_region_id=unit,
            state__in=[ReviewState.RECOMMENDED, ReviewState.FORWARDED],
        ).count()
        assert used <= quota
    # Every demo document is a real PDF that downloads.
    client = client_for_demo("gov_jiashan")
    doc = Document.objects.filter(application=jiashan).first()
    response = client.get(f"/pilot/files/{doc.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert client.get(f"/pilot/applications/{jiashan.pk}/").status_code == 200
    ministry = client_for_demo("gov_national")
    assert ministry.get("/pilot/tracking/?year=2023").status_code == 200
    assert ministry.get(f"/pilot/ministry/{second.pk}/").status_code == 200
    assert client_for(None).get("/pilot/public/2/").status_code == 200


def client_for_demo(username: str):
    from django.test import Client

    client = Client()
    assert client.login(username=username, password="Demo-password-for-tests-1")
    return client
