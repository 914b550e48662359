"""The outreach list is not a dead end (issue 17 item 1): each row links to
the enterprise (where authorised) and the product, and invites the
enterprise to publish a demand — once in 30 days, audited, in its inbox,
never for an enterprise the list may not show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chanrong.core.errors import Conflict, NotAllowed, NotFound
from chanrong.core.models import AuditEntry, Notification
from chanrong.matching import invite
from chanrong.registry.models import EnterpriseList, ListEntry, ListVersion
from chanrong.registry.models.lists import EntryChange, ListType, VersionStatus

from .surface_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


@pytest.fixture
def white_list(world):
    """A 嘉善 white list in force naming ent2 (which has not authorised the bank)."""
    lst = EnterpriseList.objects.create(
        list_type=ListType.KEY_ENTERPRISES,
        name="嘉善县重点企业白名单",
        agency=world.gov_jiashan,
        region_id="330421",
    )
    version = ListVersion.objects.create(list=lst, number=1)
    ListEntry.objects.create(version=version, enterprise=world.ent2, change=EntryChange.ADDED)
    ListVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.PUBLISHED,
        effective_from=timezone.localdate() - timedelta(days=30),
        published_at=timezone.now(),
    )
    return lst


def test_workbench_rows_offer_the_product_and_an_invitation(
    world, catalogue, white_list, client_as
):
    client = client_as("bank_staff")
    html = client.get("/demands/workbench/").content.decode()
    row = html.split(f'data-enterprise="{world.ent2.pk}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-action="open-product"' in row and 'data-action="invite"' in row
    assert 'data-action="open-enterprise"' not in row  # ent2 has not authorised the bank
    response = client.post(f"/matching/outreach/{world.ent2.pk}/invite/")
    assert response.status_code == 302 and response["Location"] == "/demands/workbench/"
    message = Notification.objects.get(recipient=world.user("ent2_user"), verb="matching.invite")
    assert world.bank.name in message.message and message.link == "/demands/new/"
    assert AuditEntry.objects.filter(
        action=invite.INVITE_ACTION, object_id=str(world.ent2.pk)
    ).exists()
    html = client.get("/demands/workbench/").content.decode()
    assert f'data-invited="{world.ent2.pk}"' in html


def test_invitation_is_once_in_thirty_days_and_only_for_listed_enterprises(world, white_list):
    staff = world.user("bank_staff")
    assert invite.invite_to_publish(staff, world.ent2.pk) == 1
    with pytest.raises(Conflict):
        invite.invite_to_publish(world.user("bank_manager"), world.ent2.pk)
    later = timezone.now() + timedelta(days=31)
    assert invite.invited_recently(world.bank.pk, [world.ent2.pk], later) == set()
    with pytest.raises(NotFound):  # ent is on no list
        invite.invite_to_publish(staff, world.ent.pk)
    with pytest.raises(NotAllowed):
        invite.invite_to_publish(world.user("gov_jiashan"), world.ent2.pk)
    assert Notification.objects.filter(verb="matching.invite").count() == 1
