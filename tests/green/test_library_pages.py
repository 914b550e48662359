"""The green library pages: the enterprise applies (errors beside the
fields, nothing written), follows its application; the agency reviews from
its queue (status filter), drafts the list's next version; the hub, the
catalogue, the published library and the statistics page with its export
(audited); others get 404."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from chanrong.core.models import AuditEntry
from chanrong.green.models import LibraryApplication, LibraryStatus
from chanrong.registry.models import ListVersion

from .test_library import EVIDENCE, apply, fast_password_hashing, green, publish  # noqa: F401

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_enterprise_applies_and_follows(world, green):  # noqa: F811
    client = client_for(world.user("ent_user"))
    assert client.get(reverse("green:home")).status_code == 200
    page = client.get(reverse("green:library_apply"))
    assert page.status_code == 200 and "1.1.1 节能锅炉制造" in page.content.decode()
    bad = client.post(reverse("green:library_apply"), {"item_code": "9.9", "description": ""})
    assert bad.status_code == 422
    assert set(bad.context["form"].errors) >= {"item_code", "description", "evidence_1_name"}
    assert not LibraryApplication.objects.exists()
    row = EVIDENCE[0]
    done = client.post(
        reverse("green:library_apply"),
        {
            "item_code": "1.1.1",
            "description": "高效锅炉",
            "evidence_1_name": row["name"],
            "evidence_1_number": row["number"],
            "evidence_1_issued_on": row["issued_on"],
        },
    )
    application = LibraryApplication.objects.get()
    assert done.status_code == 302 and done["Location"] == application.get_absolute_url()
    detail = client.get(application.get_absolute_url()).content.decode()
    assert "节能审查意见" in detail and 'data-action="withdraw"' in detail
    assert 'data-action="approve"' not in detail
    mine = client.get(reverse("green:library_applications")).content.decode()
    assert f'data-application="{application.pk}"' in mine
    # Another enterprise: 404 on the application; no review pages.
    other = client_for(world.user("ent2_user"))
    assert other.get(application.get_absolute_url()).status_code == 404
    assert other.get(reverse("green:library_publish")).status_code == 404
    assert other.get(reverse("green:library_stats")).status_code == 404
    url = reverse("green:library_action", args=[application.pk, "approve"])
    assert client.post(url, {"approve-note": ""}).status_code == 403


def test_agency_reviews_publishes_and_exports(world, green):  # noqa: F811
    first = apply(world)
    second = apply(world, "ent2_user", item_code="3.2.2")
    client = client_for(world.user("gov_jiashan_staff"))
    queue = client.get(reverse("green:library_applications"), {"status": "submitted"})
    assert queue.status_code == 200 and len(queue.context["applications"]) == 2
    reject = reverse("green:library_action", args=[second.pk, "reject"])
    refused = client.post(reject, {"reject-note": ""})
    assert refused.status_code == 422 and "note" in refused.context["forms"]["reject"].errors
    assert client.post(reject, {"reject-note": "材料不足"}).status_code == 302
    approve = reverse("green:library_action", args=[first.pk, "approve"])
    assert client.post(approve, {"approve-note": ""}).status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (LibraryStatus.APPROVED, LibraryStatus.REJECTED)
    page = client.get(reverse("green:library_publish")).content.decode()
    assert 'data-action="propose"' in page and "data-confirm" in page
    proposed = client.post(reverse("green:library_propose", args=[green.pk]))
    assert proposed.status_code == 302
    version = ListVersion.objects.get(list=green)
    assert version.entries.filter(enterprise=world.ent).exists()
    # Nothing more to draft: a message, not an error page.
    again = client.post(reverse("green:library_propose", args=[green.pk]), follow=True)
    assert again.status_code == 200
    stats = client.get(reverse("green:library_stats"))
    assert stats.status_code == 200
    export = client.get(reverse("core:export", args=["green_library_stats"]))
    assert export.status_code == 200
    assert AuditEntry.objects.filter(object_type="export", object_id="green_library_stats").exists()


def test_browse_and_catalogue_for_every_role(world, green):  # noqa: F811
    application = apply(world)
    from chanrong.green.services import library

    library.approve(world.user("gov_jiashan_staff"), application)
    publish(world, green)
    for name in ("bank_staff", "ent2_user", "gov_jiashan"):
        client = client_for(world.user(name))
        page = client.get(reverse("green:library_browse"), {"category": "1"})
        assert f'data-entry="{application.pk}"' in page.content.decode(), name
        empty = client.get(reverse("green:library_browse"), {"category": "3"}).content.decode()
        assert f'data-entry="{application.pk}"' not in empty
    catalogue = client_for(world.user("bank_staff")).get(reverse("green:library_catalogue"))
    assert "发改环资〔2019〕293号" in catalogue.content.decode()
