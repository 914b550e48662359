"""The inbox pages: one's own messages only; mark read, mark all read."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chanrong.core import notify
from chanrong.core.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def messages_for(world):
    def make(username: str, *texts: str, link: str = "") -> list[Notification]:
        user = world.user(username)
        for text in texts:
            notify.send([user], "demo.verb", text, link, email=False)
        return list(Notification.objects.filter(recipient=user).order_by("pk"))

    return make


def test_inbox_lists_only_ones_own_messages(client, world, messages_for):
    messages_for("ent_user", "企业的消息")
    messages_for("bank_staff", "银行的<消息>")
    client.force_login(world.user("bank_staff"))
    response = client.get(reverse("core:inbox"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "银行的&lt;消息&gt;" in body
    assert "企业的消息" not in body
    assert "1 条未读" in body


def test_inbox_needs_login(client):
    response = client.get(reverse("core:inbox"))
    assert response.status_code == 302


def test_mark_read_and_unread_filter(client, world, messages_for):
    first, second = messages_for("bank_staff", "第一条", "第二条")
    client.force_login(world.user("bank_staff"))
    response = client.post(reverse("core:inbox_read", args=[first.pk]))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.read_at is not None
    body = client.get(reverse("core:inbox") + "?unread=1").content.decode()
    assert "第二条" in body and "第一条" not in body


def test_someone_elses_message_is_a_404(client, world, messages_for):
    (theirs,) = messages_for("ent_user", "别人的")
    client.force_login(world.user("bank_staff"))
    assert client.post(reverse("core:inbox_read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_is_post_only(client, world, messages_for):
    (mine,) = messages_for("bank_staff", "x")
    client.force_login(world.user("bank_staff"))
    assert client.get(reverse("core:inbox_read", args=[mine.pk])).status_code == 405


def test_open_marks_read_and_follows_a_local_link(client, world, messages_for):
    (mine,) = messages_for("bank_staff", "有新的派单", link="/demands/5/")
    client.force_login(world.user("bank_staff"))
    response = client.post(reverse("core:inbox_read", args=[mine.pk]), {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/demands/5/"


def test_open_never_follows_an_external_link(client, world, messages_for):
    (mine,) = messages_for("bank_staff", "钓鱼", link="https://evil.example/")
    client.force_login(world.user("bank_staff"))
    response = client.post(reverse("core:inbox_read", args=[mine.pk]), {"open": "1"})
    assert response["Location"] == reverse("core:inbox")


def test_mark_all_read(client, world, messages_for):
    messages_for("bank_staff", "一", "二", "三")
    (other,) = messages_for("ent_user", "别人的")
    client.force_login(world.user("bank_staff"))
    response = client.post(reverse("core:inbox_read_all"), follow=True)
    assert response.status_code == 200
    assert notify.unread_count(world.user("bank_staff")) == 0
    other.refresh_from_db()
    assert other.read_at is None
