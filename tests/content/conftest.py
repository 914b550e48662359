from __future__ import annotations

import pytest
from django.test import Client

from chanrong.content.models import Article, ArticleState, Consultation, Faq, FaqCategory
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def login(world):
    def make(username: str) -> Client:
        client = Client()
        assert client.login(username=username, password=PASSWORD), username
        return client

    return make


@pytest.fixture
def content(world):
    """One published and one draft article, a public and a hidden FAQ entry."""
    published = Article.objects.create(
        category="guide",
        title="如何在平台发布融资需求",
        body="第一段：登录后进入我的融资需求。\n\n第二段：<script>alert(1)</script> 利率<4%",
        source="嘉善县经济和信息化局",
        region_id=world.gov_jiashan.region_id,
        agency=world.gov_jiashan,
        state=ArticleState.PUBLISHED,
        published_on="2026-11-02",
    )
    draft = Article.objects.create(
        category="risk",
        title="尚未发布的风险提示草稿",
        body="草稿正文，尚未发布，不应公开。",
        region_id=world.gov_jiashan.region_id,
        agency=world.gov_jiashan,
    )
    shown = Faq.objects.create(
        category=FaqCategory.PLATFORM, question="平台收费吗？", answer="平台免费。", position=1
    )
    hidden = Faq.objects.create(
        category=FaqCategory.PLATFORM,
        question="内部整理中的问题",
        answer="未公开。",
        published=False,
        region_id=world.gov_jiashan.region_id,
    )
    return {"published": published, "draft": draft, "faq": shown, "hidden_faq": hidden}


def ask_data(world, **extra) -> dict:
    data = {
        "subject": "贴息政策咨询",
        "question": "我司在嘉善，去年的贷款能否申请今年的贴息政策？需要准备哪些材料？",
        "addressee": f"agency:{world.gov_jiashan.pk}",
        "name": "张小明",
        "phone": "13800001234",
        "email": "",
    }
    data.update(extra)
    return data


def new_consultation(world, **extra) -> Consultation:
    from chanrong.content.services import consultations

    return consultations.submit(None, ask_data(world, **extra), ip="10.0.0.9")
