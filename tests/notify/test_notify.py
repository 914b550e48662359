"""chanrong.core.notify.send: inbox rows now, e-mail and SMS through tasks after commit."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.template.loader import render_to_string
from django.test import RequestFactory

from chanrong.core import notify, sms
from chanrong.core.context_processors_inbox import inbox
from chanrong.core.models import Notification

from ..tasks.conftest import run_db_worker

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def recording_sms(settings):
    settings.CHANRONG_SMS_PROVIDER = "chanrong.core.sms.RecordingSmsProvider"
    settings.CHANRONG_SITE_URL = "https://chanrong.example.gov.cn"
    sms.RecordingSmsProvider.clear()
    yield
    sms.RecordingSmsProvider.clear()


@pytest.fixture
def people(world):
    manager, staff = world.user("bank_manager"), world.user("bank_staff")
    manager.email, manager.phone = "manager@bank.example", "+86 138-0013-8000"
    staff.email, staff.phone = "", "0573-84000000"  # no e-mail; a landline
    manager.save()
    staff.save()
    return manager, staff


def test_send_writes_one_inbox_row_per_active_user(world, people):
    manager, staff = people
    inactive = world.user("bank2_staff")
    inactive.is_active = False
    inactive.save()
    count = notify.send(
        [manager, staff, manager, None, inactive], "demo.verb", "有新的派单", "/demands/1/"
    )
    assert count == 2
    assert Notification.objects.filter(recipient=manager, verb="demo.verb").count() == 1
    assert not Notification.objects.filter(recipient=inactive).exists()


def test_email_goes_out_after_commit_through_a_task(
    immediate_tasks, people, django_capture_on_commit_callbacks
):
    manager, staff = people
    with django_capture_on_commit_callbacks(execute=True):
        notify.send([manager, staff], "demo.verb", "有新的派单待接单", "/demands/7/")
        assert mail.outbox == []  # nothing before the commit
    assert len(mail.outbox) == 1  # the staff user has no address
    message = mail.outbox[0]
    assert message.to == ["manager@bank.example"]
    assert message.subject == "[产融通] 有新的派单待接单"
    assert "https://chanrong.example.gov.cn/demands/7/" in message.body
    assert "&lt;" not in message.body


def test_plain_text_email_is_not_html_escaped(
    immediate_tasks, people, django_capture_on_commit_callbacks
):
    manager, _ = people
    with django_capture_on_commit_callbacks(execute=True):
        notify.send([manager], "demo.verb", "A&B <公司> 的需求", context={"subject": "主题 & 说明"})
    assert "A&B <公司> 的需求" in mail.outbox[0].body
    assert mail.outbox[0].subject == "[产融通] 主题 & 说明"


def test_nothing_is_sent_when_the_change_rolls_back(people, django_capture_on_commit_callbacks):
    manager, _ = people
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify.send([manager], "demo.verb", "不会发出", sms=True)
        raise RuntimeError
    assert callbacks == []
    assert not Notification.objects.filter(message="不会发出").exists()


def test_email_can_be_turned_off(immediate_tasks, people, django_capture_on_commit_callbacks):
    manager, _ = people
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify.send([manager], "demo.verb", "只进站内信", email=False)
    assert callbacks == []
    assert mail.outbox == []


def test_sms_goes_to_mobile_numbers_only(
    immediate_tasks, people, django_capture_on_commit_callbacks
):
    manager, staff = people
    with django_capture_on_commit_callbacks(execute=True):
        notify.send([manager, staff], "demo.verb", "派单即将超时", "/demands/7/", sms=True)
    sent = sms.RecordingSmsProvider.outbox
    assert [m.phone for m in sent] == ["13800138000"]
    assert sent[0].text.startswith("【产融通】派单即将超时")
    assert "https://chanrong.example.gov.cn/demands/7/" in sent[0].text


def test_e_mail_waits_for_the_worker_on_the_database_backend(
    database_tasks, people, django_capture_on_commit_callbacks, keep_signal_handlers
):
    manager, _ = people
    with django_capture_on_commit_callbacks(execute=True):
        notify.send([manager], "demo.verb", "排队发送", sms=True)
    assert mail.outbox == [] and sms.RecordingSmsProvider.outbox == []
    run_db_worker()
    assert len(mail.outbox) == 1
    assert len(sms.RecordingSmsProvider.outbox) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0086-13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("0573-84000000", None),
        ("12800138000", None),
        ("", None),
    ],
)
def test_normalise_phone(raw, expected):
    assert sms.normalise_phone(raw) == expected


def test_console_provider_prints(capsys, settings):
    settings.CHANRONG_SMS_PROVIDER = "chanrong.core.sms.ConsoleSmsProvider"
    sms.send_now("13800138000", "你好")
    assert "[SMS] to 13800138000: 你好" in capsys.readouterr().out


def test_a_provider_without_send_is_refused(settings):
    settings.CHANRONG_SMS_PROVIDER = "builtins.object"
    with pytest.raises(TypeError):
        sms.get_provider()


def test_context_processor_counts_unread_lazily(people, django_assert_num_queries):
    manager, _ = people
    notify.send([manager], "demo.verb", "一", email=False)
    notify.send([manager], "demo.verb", "二", email=False)
    request = RequestFactory().get("/")
    request.user = manager
    with django_assert_num_queries(0):
        context = inbox(request)
    assert context["inbox_url"] == "/inbox/"
    html = render_to_string("partials/inbox_link.html", context)
    assert 'data-testid="inbox-unread">2<' in html


def test_context_processor_is_empty_for_anonymous_users():
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert inbox(request) == {}


def test_badge_caps_at_99(people):
    manager, _ = people
    Notification.objects.bulk_create(
        [Notification(recipient=manager, verb="v", message=str(i)) for i in range(120)]
    )
    request = RequestFactory().get("/")
    request.user = manager
    assert ">99+<" in render_to_string("partials/inbox_link.html", inbox(request))


def test_the_demands_apps_recipient_rows_are_told_as_users_are(
    immediate_tasks, people, django_capture_on_commit_callbacks
):
    """institution_users (demands) gives Recipient rows, not User instances:
    the same inbox rows, e-mail (with the name the template greets) and SMS
    (the phone decrypted) as for the users themselves."""
    from chanrong.demands.services.common import Recipient, institution_users

    manager, staff = people
    manager.display_name = "王经理"
    manager.save()
    rows = institution_users(manager.institution_id)
    assert all(isinstance(row, Recipient) for row in rows)
    assert {row.pk for row in rows} >= {manager.pk, staff.pk}
    with django_capture_on_commit_callbacks(execute=True):
        told = notify.send(rows, "demo.rows", "派单即将超时", "/demands/7/", sms=True, actor=staff)
    assert told == len(rows) - 1  # not the actor
    assert Notification.objects.filter(recipient=manager, verb="demo.rows").count() == 1
    assert not Notification.objects.filter(recipient=staff, verb="demo.rows").exists()
    (message,) = [m for m in mail.outbox if m.to == ["manager@bank.example"]]
    assert message.body.startswith("王经理，您好")
    assert [m.phone for m in sms.RecordingSmsProvider.outbox] == ["13800138000"]
