"""core.bulkinsert writes the rows `bulk_create` writes, with fewer steps.

Each test writes the same objects both ways and compares what the database
holds, on whichever database the run uses (SQLite, or PostgreSQL with
DATABASE_URL, where the values are written into the statement as psycopg's
own literals)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext

from chanrong.core import bulkinsert
from chanrong.core.models import AuditEntry, Notification

pytestmark = pytest.mark.django_db

TRICKY = [
    "plain",
    "it's",
    'say "hi"',
    "back\\slash \\' end",
    "100% %s %(name)s %%",
    "中文：派单 → 机构 ✓ 😀",
    "",
    "line\nbreak\ttab",
]


def _entries(tag: str) -> list[AuditEntry]:
    moment = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    rows = []
    for i, text in enumerate(TRICKY):
        rows.append(
            AuditEntry(
                seq=None,
                created_at=moment + timedelta(seconds=i),
                actor_id=None if i % 3 == 0 else 2**40 + i,
                actor_name=text,
                organisation=text[::-1],
                action=f"{tag}.{i}",
                object_type="test",
                object_id=str(i),
                object_repr=text,
                changes={"text": text, "n": i, "list": [1, None, "é"], "nested": {"a": [text]}},
                ip=[None, "10.0.0.1", "2001:DB8::1", "::ffff:10.0.0.2"][i % 4],
                prev_hash=None,
                hash=None,
            )
        )
    return rows


def _stored(model, tag_field: str, prefix: str, columns: list[str]) -> list[tuple]:
    rows = model.objects.filter(**{f"{tag_field}__startswith": prefix}).order_by("pk")
    return [tuple(row) for row in rows.values_list(*columns)]


def _columns(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if not f.primary_key]


def _without_tag(rows: list[tuple], index: int) -> list[tuple]:
    return [row[:index] + (row[index].split(".", 1)[1],) + row[index + 1 :] for row in rows]


def _admin(username: str):
    user = get_user_model()(username=username, role="platform_admin", display_name=username)
    user.set_password("x-Passw0rd-long")
    user.save()
    return user


def test_insert_writes_what_bulk_create_writes():
    columns = _columns(AuditEntry)
    action = columns.index("action")
    AuditEntry.objects.bulk_create(_entries("orm"))
    fast = bulkinsert.insert(AuditEntry, _entries("fast"))
    orm_rows = _without_tag(_stored(AuditEntry, "action", "orm.", columns), action)
    fast_rows = _without_tag(_stored(AuditEntry, "action", "fast.", columns), action)
    assert fast_rows == orm_rows
    assert len(fast_rows) == len(TRICKY)
    # Keys come back in order and the objects count as saved.
    assert [e.pk for e in fast] == sorted(
        AuditEntry.objects.filter(action__startswith="fast.").values_list("pk", flat=True)
    )
    assert all(not e._state.adding and e._state.db == "default" for e in fast)
    assert AuditEntry.objects.get(pk=fast[2].pk).ip == "2001:db8::1"  # normalised, as Django does


def test_one_statement_per_batch(monkeypatch):
    with CaptureQueriesContext(connection) as queries:
        bulkinsert.insert(AuditEntry, _entries("one"))
    assert len(queries) == 1
    # Fewer rows per statement when the database allows fewer values.
    monkeypatch.setattr(connection.ops, "bulk_batch_size", lambda fields, objs: 3)
    with CaptureQueriesContext(connection) as queries:
        written = bulkinsert.insert(AuditEntry, _entries("three"))
    assert len(queries) == 3  # 3 + 3 + 2
    stored = AuditEntry.objects.filter(action__startswith="three.").order_by("pk")
    assert [e.pk for e in written] == [e.pk for e in stored]
    assert [e.action for e in stored] == [f"three.{i}" for i in range(len(TRICKY))]


def test_insert_values_writes_what_bulk_create_writes():
    alice, bob = _admin("bulk_alice"), _admin("bulk_bob")
    moment = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    Notification.objects.bulk_create(
        [
            Notification(recipient=user, verb="orm", message=text, link="/d/1/", created_at=moment)
            for user in (alice, bob)
            for text in TRICKY
        ]
    )
    # auto_now_add stamps bulk_create's rows with the time of writing.
    Notification.objects.filter(verb="orm").update(created_at=moment)
    count = bulkinsert.insert_values(
        Notification,
        ("recipient_id", "verb", "message", "link", "created_at"),
        [(user.pk, "fast", text, "/d/1/", moment) for user in (alice, bob) for text in TRICKY],
    )
    assert count == 2 * len(TRICKY)
    columns = ["recipient_id", "message", "link", "created_at", "read_at"]
    assert _stored(Notification, "verb", "fast", columns) == _stored(
        Notification, "verb", "orm", columns
    )


def test_insert_values_refuses_rows_of_the_wrong_width():
    with pytest.raises(ValueError, match="2 values for 3 fields"):
        bulkinsert.insert_values(AuditEntry, ("action", "object_type", "object_id"), [("a", "b")])
    with pytest.raises(ValueError, match="no field"):
        bulkinsert.insert_values(AuditEntry, ("no_such_column",), [("a",)])
    assert bulkinsert.insert_values(AuditEntry, ("action",), []) == 0


def test_what_the_short_path_cannot_take_goes_to_bulk_create():
    # An expression as a value, and an object that already has its key.
    expression = AuditEntry(action="expr", object_type="t", object_id="1", created_at=Now())
    expression.changes = {}
    bulkinsert.insert(AuditEntry, [expression])
    assert AuditEntry.objects.get(pk=expression.pk).action == "expr"
    top = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    keyed = AuditEntry(
        pk=top + 100, action="keyed", object_type="t", object_id="2", created_at=Now(), changes={}
    )
    bulkinsert.insert(AuditEntry, [keyed])
    assert AuditEntry.objects.get(pk=top + 100).action == "keyed"
    with_value = AuditEntry(
        action=Value("valued"), object_type="t", object_id="3", created_at=Now(), changes={}
    )
    bulkinsert.insert(AuditEntry, [with_value])
    assert AuditEntry.objects.filter(action="valued").count() == 1


def test_keys_of_related_objects_saved_after_assignment():
    users = get_user_model().objects
    carol = get_user_model()(username="bulk_carol", role="platform_admin")
    note = Notification(recipient=carol, verb="late", message="m")
    with pytest.raises(ValueError):  # as bulk_create: the recipient is not saved
        bulkinsert.insert(Notification, [note])
    carol.set_password("x-Passw0rd-long")
    carol.save()
    bulkinsert.insert(Notification, [note])
    assert Notification.objects.get(pk=note.pk).recipient_id == users.get(username="bulk_carol").pk
    assert note.created_at is not None  # auto_now_add applied, as bulk_create does


# --- update: one row's UPDATE, as save(update_fields=…) writes it -------------------


def _job(tag: str):
    from chanrong.core.models import ImportJob

    return ImportJob.objects.create(kind=tag, filename=f"{tag}.xlsx", params={"a": 1})


def test_update_writes_what_save_writes():
    """Every kind of value a transition sets (text, JSON, bytes, a large
    integer, a key, an aware time, None), and auto_now, which both stamp."""
    from chanrong.core.models import ImportJob

    admin = _admin("updater")
    orm, fast = _job("orm"), _job("fast")
    names = ["params", "content", "size", "created_by", "finished_at", "message", "status"]
    names += ["updated_at", "started_at"]
    moment = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    for job in (orm, fast):
        job.params = {"text": TRICKY, "n": 2**40, "none": None}
        job.content = b"\x00\xff raw"
        job.size = 2**40 + 7
        job.created_by = admin
        job.finished_at = moment
        job.message = TRICKY[4]
        job.status = "finished"
        job.started_at = None
    orm.save(update_fields=names)
    with CaptureQueriesContext(connection) as queries:
        bulkinsert.update(fast, names)
    assert len(queries) == 1 and queries[0]["sql"].startswith("UPDATE")
    written = [n if n == "content" else ImportJob._meta.get_field(n).attname for n in names]
    stored = {
        job.kind: ImportJob.objects.filter(pk=job.pk).values_list(*written).get()
        for job in (orm, fast)
    }
    stamps = written.index("updated_at")
    assert stored["fast"][stamps] > stored["orm"][stamps]  # stamped by pre_save, as save() does
    assert [bytes(v) if isinstance(v, memoryview) else v for v in stored["fast"]][:stamps] == [
        bytes(v) if isinstance(v, memoryview) else v for v in stored["orm"]
    ][:stamps]
    assert stored["fast"][stamps + 1 :] == stored["orm"][stamps + 1 :]
    assert stored["fast"][written.index("size")] == 2**40 + 7
    assert ImportJob.objects.get(pk=fast.pk).updated_at == fast.updated_at


def test_update_of_a_row_that_is_gone_fails_like_save():
    from django.db import DatabaseError

    from chanrong.core.models import ImportJob

    job = _job("gone")
    ImportJob.objects.filter(pk=job.pk).delete()
    job.message = "x"
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        bulkinsert.update(job, ["message"])


def test_update_leaves_signals_and_expressions_to_save():
    """A model someone listens to is saved by save(), which sends the
    signals (accounts' User: its credentials receiver); an expression is
    resolved by save()."""
    from django.db.models import F
    from django.db.models.signals import post_save

    from chanrong.core.models import ImportJob

    user = _admin("listened")
    seen = []

    def receiver(sender, instance, update_fields, **kwargs):
        seen.append((instance.pk, sorted(update_fields)))

    post_save.connect(receiver, sender=type(user), dispatch_uid="test_update_signals")
    try:
        user.display_name = "新名字"
        bulkinsert.update(user, ["display_name"])
    finally:
        post_save.disconnect(dispatch_uid="test_update_signals", sender=type(user))
    assert seen == [(user.pk, ["display_name"])]
    job = _job("expression")
    job.processed_rows = F("processed_rows") + 5
    bulkinsert.update(job, ["processed_rows"])
    assert ImportJob.objects.get(pk=job.pk).processed_rows == 5


def test_create_is_save_with_signals_where_someone_listens():
    """create(): the planned INSERT, or save() for a model with receivers."""
    from django.db.models.signals import post_save

    from chanrong.core.models import ImportJob

    job = bulkinsert.create(ImportJob(kind="created", filename="a.xlsx"))
    stored = ImportJob.objects.get(pk=job.pk)
    assert stored.kind == "created" and stored.created_at == job.created_at is not None
    assert not job._state.adding
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((instance.pk, created))

    post_save.connect(receiver, sender=ImportJob, dispatch_uid="test_create_signals")
    try:
        other = bulkinsert.create(ImportJob(kind="listened", filename="b.xlsx"))
    finally:
        post_save.disconnect(dispatch_uid="test_create_signals", sender=ImportJob)
    assert seen == [(other.pk, True)]


def test_a_model_that_overrides_save_is_saved_by_it(monkeypatch):
    """A model's own save() may guard a rule (the registry's published list
    versions refuse edits): create() and update() leave such a model to it."""
    from django.db import models

    from chanrong.core.models import ImportJob

    calls = []

    def guarded_save(self, *args, **kwargs):
        calls.append(kwargs.get("update_fields"))
        models.Model.save(self, *args, **kwargs)

    monkeypatch.setattr(ImportJob, "save", guarded_save)
    job = bulkinsert.create(ImportJob(kind="guarded", filename="g.xlsx"))
    job.message = "changed"
    bulkinsert.update(job, ["message"])
    assert calls == [None, ("message",)]
    assert ImportJob.objects.get(pk=job.pk).message == "changed"


def test_json_values_orjson_declines_are_written_the_fields_way():
    """On PostgreSQL JSON goes out as orjson's text; what orjson will not
    write (an integer beyond 64 bits) or writes differently from the standard
    library (integer keys, 1e16) is stored as bulk_create stores it."""
    awkward = [
        {"big": 2**70, "small": -(2**63)},
        {1: "integer key", "float": 1e16, "tiny": 5e-324},
        [True, None, "a backslash: \\u0000 as text", "行分隔符\u2028", "é"],
        "just a string",
        12,
    ]

    def entries(tag):
        rows = _entries(tag)[: len(awkward)]
        for row, changes in zip(rows, awkward, strict=True):
            row.changes = changes
        return rows

    AuditEntry.objects.bulk_create(entries("orm-json"))
    bulkinsert.insert(AuditEntry, entries("fast-json"))
    orm = AuditEntry.objects.filter(action__startswith="orm-json.").order_by("pk")
    fast = AuditEntry.objects.filter(action__startswith="fast-json.").order_by("pk")
    assert [e.changes for e in fast] == [e.changes for e in orm]
    assert fast[0].changes["big"] == 2**70


# --- new: the instance the constructor would make ---------------------------------


def _same_instance(made, built) -> None:
    assert type(made) is type(built)
    mine = {k: v for k, v in made.__dict__.items() if k != "_state"}
    theirs = {k: v for k, v in built.__dict__.items() if k != "_state"}
    assert mine == theirs
    assert made._state.adding and made._state.db is None
    assert made._state.fields_cache == built._state.fields_cache


def test_new_makes_what_the_constructor_makes():
    """Attnames, a key given as an object (cached, as `__init__` caches it),
    None for a key, and defaults (callable and plain) for what is left out."""
    admin = _admin("bulk_new")
    moment = datetime(2026, 3, 1, 8, 30, 15, tzinfo=UTC)
    cases = [
        (AuditEntry, {"action": "a", "changes": {"x": 1}, "created_at": moment, "actor_id": 3}),
        (AuditEntry, {}),
        (Notification, {"recipient": admin, "verb": "v", "message": "m"}),
        (Notification, {"recipient_id": admin.pk, "verb": "v"}),
        (Notification, {"recipient": None, "verb": "v"}),
    ]
    for model, values in cases:
        _same_instance(bulkinsert.new(model, **values), model(**values))
    note = bulkinsert.new(Notification, recipient=admin, verb="v", message="m")
    assert note.recipient is admin  # from the cache: no query
    bulkinsert.insert(Notification, [note])
    assert Notification.objects.get(pk=note.pk).recipient_id == admin.pk


def test_new_leaves_anything_else_to_the_constructor():
    """A model with a post_init receiver (the user), an unknown keyword or a
    key of the wrong type: whatever the constructor does, it does."""
    user = bulkinsert.new(get_user_model(), username="bulk_new_user", is_active=False)
    assert user.username == "bulk_new_user" and user._chanrong_was_active is False
    with pytest.raises(TypeError, match="no_such_field"):
        bulkinsert.new(AuditEntry, no_such_field=1)
    with pytest.raises(ValueError, match="must be a"):
        bulkinsert.new(Notification, recipient=AuditEntry(), verb="v")


def test_objects_with_their_keys_are_written_as_bulk_create_writes_them():
    """The keyed plan (a task's UUID, or any key given): the same rows, the
    keys as given, the objects marked saved."""
    columns = _columns(AuditEntry)
    action = columns.index("action")
    mine, theirs = _entries("keyed_mine"), _entries("keyed_theirs")
    for offset, rows in ((10_000_000, mine), (20_000_000, theirs)):
        for i, entry in enumerate(rows):
            entry.pk = offset + i
    bulkinsert.insert(AuditEntry, mine)
    AuditEntry.objects.bulk_create(theirs)
    assert [e.pk for e in mine] == list(range(10_000_000, 10_000_000 + len(mine)))
    assert all(not e._state.adding and e._state.db == "default" for e in mine)
    stored_mine = _stored(AuditEntry, "action", "keyed_mine.", ["pk", *columns])
    stored_theirs = _stored(AuditEntry, "action", "keyed_theirs.", ["pk", *columns])
    assert [row[0] for row in stored_mine] == [e.pk for e in mine]
    assert _without_tag([r[1:] for r in stored_mine], action) == _without_tag(
        [r[1:] for r in stored_theirs], action
    )


def test_create_sends_pre_save_before_and_post_save_after_the_insert():
    from django.db.models.signals import post_save, pre_save

    from chanrong.core.models import ImportJob

    seen = []

    def before(sender, instance, raw, using, update_fields, **kwargs):
        instance.filename = "set-by-receiver.xlsx"
        seen.append(("pre", instance.pk, raw, using, update_fields))

    def after(sender, instance, created, raw, using, update_fields, **kwargs):
        stored = ImportJob.objects.get(pk=instance.pk)
        seen.append(("post", stored.filename, created, raw, using, update_fields))

    pre_save.connect(before, sender=ImportJob, dispatch_uid="test_create_pre")
    post_save.connect(after, sender=ImportJob, dispatch_uid="test_create_post")
    try:
        job = bulkinsert.create(ImportJob(kind="signalled", filename="a.xlsx"))
    finally:
        pre_save.disconnect(dispatch_uid="test_create_pre", sender=ImportJob)
        post_save.disconnect(dispatch_uid="test_create_post", sender=ImportJob)
    assert seen == [
        ("pre", None, False, "default", None),
        ("post", "set-by-receiver.xlsx", True, False, "default", None),
    ]
    assert not job._state.adding
