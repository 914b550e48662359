"""The public side without login: pages readable by anyone, drafts never
public, user text always escaped."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_anonymous_reads_every_public_page(world, content):
    client = Client()
    for url in (
        "/public/",
        "/public/knowledge/",
        "/public/faq/",
        "/public/ask/",
        "/public/answers/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert 'name="viewport"' in html
    landing = client.get("/public/").content.decode()
    assert "/policy/" in landing and "/policy/notices/" in landing  # policies in force, 公示
    assert "/accounts/login/" in landing
    assert content["published"].title in landing
    assert 'name="region"' in landing


def test_drafts_and_hidden_entries_are_not_public(world, content):
    client = Client()
    listing = client.get("/public/knowledge/").content.decode()
    assert content["published"].title in listing
    assert content["draft"].title not in listing
    assert client.get(f"/public/knowledge/{content['draft'].pk}/").status_code == 404
    faq = client.get("/public/faq/").content.decode()
    assert "平台收费吗？" in faq and "内部整理中的问题" not in faq
    api = client.get("/api/v1/public/articles").json()
    assert [a["id"] for a in api["results"]] == [content["published"].pk]
    assert [f["question"] for f in client.get("/api/v1/public/faq").json()] == ["平台收费吗？"]


def test_article_body_is_escaped_plain_text(world, content):
    html = Client().get(f"/public/knowledge/{content['published'].pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 利率&lt;4%" in html
    assert html.count("<p>第") == 2  # two paragraphs


def test_knowledge_search_filters_and_pages(world, content):
    client = Client()
    hit = client.get("/public/knowledge/", {"q": "融资需求"}).content.decode()
    assert content["published"].title in hit
    miss = client.get("/public/knowledge/", {"q": "不存在的词"}).content.decode()
    assert content["published"].title not in miss
    other_region = client.get("/public/knowledge/", {"region": world.gov_jiangsu.region_id})
    assert content["published"].title not in other_region.content.decode()
    assert client.get("/public/knowledge/", {"page": "999"}).status_code == 200


def test_government_drafts_and_publishes_in_its_region_only(world, content, login):
    gov = login("gov_jiashan")
    response = gov.post(
        "/public/manage/knowledge/new/",
        {
            "category": "policy",
            "title": "贴息政策解读",
            "body": "正文第一段，足够长。",
            "source": "",
        },
    )
    assert response.status_code == 302
    from chanrong.content.models import Article

    article = Article.objects.get(title="贴息政策解读")
    assert article.state == "draft" and article.region_id == world.gov_jiashan.region_id
    assert Client().get(f"/public/knowledge/{article.pk}/").status_code == 404
    gov.post(f"/public/manage/knowledge/{article.pk}/publish/")
    article.refresh_from_db()
    assert article.state == "published" and article.published_on is not None
    assert Client().get(f"/public/knowledge/{article.pk}/").status_code == 200
    # Another province's government cannot touch it; an enterprise cannot write.
    other = login("gov_jiangsu")
    assert other.post(f"/public/manage/knowledge/{article.pk}/withdraw/").status_code == 404
    assert login("ent_user").get("/public/manage/").status_code == 403
    bad = gov.post("/public/manage/knowledge/new/", {"category": "nope", "title": "", "body": "短"})
    assert bad.status_code == 422
    assert bad.content.decode().count('class="error"') >= 3


def test_the_national_agency_sees_every_draft_it_manages(world, content):
    """The national agency's region is everything: its managed list (every
    draft) and what it may open are the same rows. `public | Q()` had been
    `public` alone, so the drafts it manages answered 404 (found by
    bench/pages.py following the 融资知识与问答 list's first links)."""
    from chanrong.content.models import Article, Faq

    user = world.users["gov_national"]
    managed = set(Article.objects.managed_by(user).values_list("pk", flat=True))
    assert content["draft"].pk in managed
    assert managed <= set(Article.objects.visible_to(user).values_list("pk", flat=True))
    hidden = content["hidden_faq"].pk
    assert Faq.objects.visible_to(user).filter(pk=hidden).exists()
    # A county agency still sees only its own region's drafts beside what is public.
    other = world.users["gov_jiangsu"]
    assert not Article.objects.visible_to(other).filter(pk=content["draft"].pk).exists()
    assert not Faq.objects.visible_to(other).filter(pk=hidden).exists()
