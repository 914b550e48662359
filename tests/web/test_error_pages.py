"""Refusals Django makes itself read in Chinese: an over-long form body is a
413 page stating the limit (it was a bare English "Bad Request (400)"), a
malformed request the platform's 400 page, and Django's own field messages
in plain words."""

from __future__ import annotations

import pytest
from django import forms
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024 * 1024)
def test_an_oversized_form_gets_a_chinese_413_page(world, client):
    client.force_login(world.user("ent_user"))
    name = "产" * (1024 * 1024)  # 3 MB of UTF-8
    response = client.post(
        reverse("demands:create"), {"purpose": name}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "提交的内容过大" in page and "1 MB" in page
    assert "Bad Request" not in page


def test_a_malformed_request_gets_the_platform_400_page(client):
    response = client.get(reverse("home"), HTTP_HOST="bad host name")
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()


def test_django_field_messages_read_as_plain_chinese():
    with translation.override("zh-hans"):
        with pytest.raises(forms.ValidationError) as too_long:
            forms.CharField(max_length=200).clean("字" * 201)
        with pytest.raises(forms.ValidationError) as too_big:
            forms.IntegerField(max_value=5).clean("9")
    assert too_long.value.messages == ["最多填写 200 个字，当前 201 个。"]
    assert too_big.value.messages == ["不能大于 5。"]
