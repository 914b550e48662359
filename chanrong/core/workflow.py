"""State machines, declared once as a table, and the one function that moves them.

Each machine (demand, dispatch, list version, application, review …) is a
`StateMachine` holding its allowed transitions and who may take each one.
`apply_transition` is the only way state changes: it checks the table and
the actor, writes the new state, appends to the audit log and notifies —
all in one transaction, so a refused or failed transition changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import DateField, Field
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from . import audit, bulkinsert
from .errors import Conflict, NotAllowed
from .notify import acting as notify_acting

ActorCheck = Callable[[Any, Any], bool]  # (actor, obj) -> allowed?


@dataclass(frozen=True)
class Transition:
    name: str
    source: frozenset[str]
    target: str
    allowed: ActorCheck
    # What people call the action ("不能执行「发布」"): pgettext_lazy("workflow", …)
    # in the tables, so it reads in the language of whoever sees it.
    label: str | Promise = ""


@dataclass
class StateMachine:
    name: str
    field: str
    transitions: dict[str, Transition] = field(default_factory=dict)

    @classmethod
    def declare(cls, name: str, field: str, table: Iterable[Transition]) -> StateMachine:
        machine = cls(name=name, field=field)
        for t in table:
            if t.name in machine.transitions:
                raise ValueError(f"{name}: transition {t.name} declared twice")
            machine.transitions[t.name] = t
        return machine

    def available(self, obj, actor) -> list[Transition]:
        state = getattr(obj, self.field)
        return [t for t in self.transitions.values() if state in t.source and t.allowed(actor, obj)]

    def states(self) -> set[str]:
        out: set[str] = set()
        for t in self.transitions.values():
            out |= t.source
            out.add(t.target)
        return out


Notifier = Callable[[Any, Transition, Any], None]


def _keep_related(obj, locked) -> None:
    """Reuse the related objects `obj` has already loaded (its enterprise, its
    institution …) on the freshly locked copy, where the foreign key is the
    same, instead of loading them again for the audit text and the notifier."""
    for fk in type(obj)._meta.concrete_fields:
        if (
            fk.is_relation
            and fk.many_to_one
            and fk.is_cached(obj)
            and getattr(obj, fk.attname) == getattr(locked, fk.attname)
        ):
            fk.set_cached_value(locked, fk.get_cached_value(obj))


def _saved_fields(model, changed: list[str]) -> list[str]:
    """What a transition's save writes: the state, the changed fields, and
    every field that computes its own value when saved (auto_now stamps, the
    keyed hashes of core.fieldcrypt): the row was read under lock just
    before, so nothing else can differ. Writing every column instead cost the
    publish path a compilation of the demand's ~40 columns, twice."""
    fields = list(dict.fromkeys(changed))
    for f in model._meta.concrete_fields:
        if f.primary_key or f.name in fields or f.attname in fields:
            continue
        own = type(f).pre_save is not Field.pre_save
        if getattr(f, "auto_now", False) or (own and not isinstance(f, DateField)):
            fields.append(f.name)
    return fields


def _check(machine: StateMachine, transition: Transition, locked, actor, name: str) -> None:
    """Conflict (409) when `locked`'s state does not allow `transition`,
    NotAllowed (403) when `actor` may not take it."""
    state = getattr(locked, machine.field)
    if state not in transition.source:
        display = getattr(locked, f"get_{machine.field}_display", None)
        raise Conflict(
            _("当前状态为「%(state)s」，不能执行「%(action)s」")
            % {"state": display() if display else state, "action": transition.label or name},
            code="invalid_transition",
        )
    if not transition.allowed(actor, locked):
        raise NotAllowed(_("无权执行「%(action)s」") % {"action": transition.label or name})


def apply_transition(
    machine: StateMachine,
    obj,
    name: str,
    actor,
    *,
    changes: dict[str, Any] | None = None,
    notify: Notifier | None = None,
    audit_extra: dict[str, Any] | None = None,
    held: bool = False,
    also_save: tuple[str, ...] = (),
):
    """Move `obj` along transition `name`. Raises Conflict (409) when the
    current state does not allow it, NotAllowed (403) when this actor may
    not; in both cases nothing is written.

    `held=True`: the caller read `obj` with select_for_update inside the
    transaction still open, so `obj` is the locked row and is not read again
    (publishing a demand moves it twice under the one lock it took), and the
    writes need no savepoint of their own: the checks come first, and a
    write that fails fails the caller's transaction, which holds the lock.
    `also_save` (with `held`): fields the caller has already set on the
    locked row, written by the same UPDATE and not part of the audit entry
    (publishing's round counter: one UPDATE of the row, not two)."""
    transition = machine.transitions.get(name)
    if transition is None:
        raise Conflict(_("未知的操作：%(name)s") % {"name": name}, code="unknown_transition")
    if held and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("held=True outside the transaction that locked the row")
    if also_save and not held:
        raise RuntimeError("also_save needs held=True: the caller's values are the locked row's")
    if held:
        locked = obj
        _check(machine, transition, locked, actor, name)
    with transaction.atomic(savepoint=not held):
        if not held:
            locked = type(obj).objects.select_for_update().get(pk=obj.pk)
            _keep_related(obj, locked)
            _check(machine, transition, locked, actor, name)
        state = getattr(locked, machine.field)
        before = {machine.field: state}
        setattr(locked, machine.field, transition.target)
        for key, value in (changes or {}).items():
            before[key] = getattr(locked, key)
            setattr(locked, key, value)
        # One UPDATE planned once per model and field list, not compiled
        # each time (bulkinsert.update: `save` where signals listen).
        bulkinsert.update(
            locked, _saved_fields(type(locked), [machine.field, *(changes or {}), *also_save])
        )
        after = {machine.field: transition.target, **(changes or {})}
        audit.record(
            f"{machine.name}.{name}",
            actor=actor,
            obj=locked,
            changes={**audit.diff(before, after), **(audit_extra or {})},
        )
        if notify is not None:
            # The actor is never among those told of their own step.
            with notify_acting(actor):
                notify(locked, transition, actor)
    for key in [machine.field, *(changes or {})]:
        setattr(obj, key, getattr(locked, key))
    return locked
