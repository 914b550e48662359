"""The 上市培育 pages: government lists, records a stage (a bad one answers
422 beside the field), sees the stats with charts and proposes the reserve;
an enterprise sees its own pipeline only; another region gets 404."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chanrong.listing.models import Pipeline, Stage

from .conftest import build_pipeline

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_government_pages(world):
    pipeline = build_pipeline(world, world.ent, upto=Stage.SHAREHOLDING)
    gov = client_for(world.user("gov_jiashan"))
    page = gov.get(reverse("listing:list"))
    assert page.status_code == 200 and world.ent.name in page.content.decode()
    detail = gov.get(pipeline.get_absolute_url())
    assert detail.status_code == 200 and 'data-testid="advance-form"' in detail.content.decode()
    bad = gov.post(
        reverse("listing:advance", args=[pipeline.pk]),
        {"stage": "review", "reached_on": str(timezone.localdate())},
    )
    assert bad.status_code == 422
    assert bad.context["advance_form"].errors["stage"]
    good = gov.post(
        reverse("listing:advance", args=[pipeline.pk]),
        {
            "stage": "tutoring",
            "reached_on": str(timezone.localdate()),
            "document_no": "浙证监辅导备案〔2026〕1号",
        },
    )
    assert good.status_code == 302
    assert Pipeline.objects.get(pk=pipeline.pk).stage == Stage.TUTORING
    stats = gov.get(reverse("listing:stats"))
    assert stats.status_code == 200
    html = stats.content.decode()
    assert 'data-chart="listing-funnel"' in html and "vendor/echarts/echarts.min.js" in html
    new = gov.post(reverse("listing:new"), {"enterprise": world.ent2.uscc, "board": "bse"})
    assert new.status_code == 302
    assert Pipeline.objects.filter(enterprise=world.ent2).exists()


def test_enterprise_and_other_region(world):
    pipeline = build_pipeline(world, world.ent, upto=Stage.INCUBATION)
    foreign = build_pipeline(world, world.ent2, upto=Stage.INCUBATION)
    ent = client_for(world.user("ent_user"))
    page = ent.get(reverse("listing:list")).content.decode()
    assert world.ent.name in page and world.ent2.name not in page
    assert ent.get(pipeline.get_absolute_url()).status_code == 200
    assert ent.get(foreign.get_absolute_url()).status_code == 404
    assert ent.get(reverse("listing:stats")).status_code == 404
    refused = ent.post(
        reverse("listing:advance", args=[pipeline.pk]),
        {"stage": "shareholding", "reached_on": str(timezone.localdate())},
    )
    assert refused.status_code == 403
    jiangsu = client_for(world.user("gov_jiangsu"))
    assert jiangsu.get(pipeline.get_absolute_url()).status_code == 404
    assert "上市培育" in client_for(world.user("gov_jiashan")).get("/").content.decode()


def test_admin_lists_pipelines_read_only(world):
    build_pipeline(world, world.ent, upto=Stage.INCUBATION)
    admin = client_for(world.user("admin"))
    for name in ("pipeline", "stagerecord"):
        url = reverse(f"admin:listing_{name}_changelist")
        assert admin.get(url, {"q": "嘉善"}).status_code == 200
        assert admin.get(reverse(f"admin:listing_{name}_add")).status_code == 403
