"""Event pages: organiser flow through the web, registration, 404s."""

from __future__ import annotations

from chanrong.events.models import Event, EventStatus


def test_organiser_flow(world, client):
    client.force_login(world.user("gov_jiashan"))
    assert client.get("/events/new/").status_code == 200
    response = client.post(
        "/events/new/",
        {
            "kind": "roadshow",
            "title": "科创企业路演",
            "date": "2024-05-20",
            "place": "嘉善",
            "region": "330421",
        },
    )
    assert response.status_code == 302
    event = Event.objects.get()
    assert (
        client.post(f"/events/{event.pk}/invite/", {"enterprises": [world.ent.uscc]}).status_code
        == 302
    )
    assert event.invitations.count() == 1
    client.post(f"/events/{event.pk}/publish/")
    event.refresh_from_db()
    assert event.status == EventStatus.PUBLISHED
    client.post(
        f"/events/{event.pk}/deals/",
        {"enterprise": world.ent.uscc, "institution": world.bank.pk, "amount": "500"},
    )
    assert event.deals.get().amount == 5_000_000
    page = client.get(f"/events/{event.pk}/")
    assert page.status_code == 200 and "科创企业路演" in page.content.decode()
    # a bad amount is a message, not a 500, and writes nothing
    client.post(
        f"/events/{event.pk}/deals/",
        {"enterprise": world.ent.uscc, "institution": world.bank.pk, "amount": "lots"},
    )
    assert event.deals.count() == 1
    assert client.post(f"/events/{event.pk}/bogus/").status_code == 404

    client.force_login(world.user("ent_user"))
    assert client.get(f"/events/{event.pk}/").status_code == 200
    client.post(f"/events/{event.pk}/register/")
    assert event.registrations.filter(enterprise=world.ent).exists()
    assert "科创企业路演" in client.get("/events/").content.decode()

    client.force_login(world.user("ent2_user"))
    assert client.get(f"/events/{event.pk}/").status_code == 404
    assert client.post(f"/events/{event.pk}/register/").status_code == 404
    assert "科创企业路演" not in client.get("/events/").content.decode()
    assert client.get("/events/new/").status_code == 404


def test_anonymous_is_sent_to_login(client):
    assert client.get("/events/").status_code == 302
