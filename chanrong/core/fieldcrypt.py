"""Personal fields encrypted at rest (AES-256-GCM), and keyed hashes for lookups.

Why: the SQLite file, a database dump or a backup copied off the server
must not reveal names, phone numbers, e-mail addresses or ID numbers
(个人信息保护法 art. 51, 等保 2.0 数据保密性). Passwords and tokens are hashed
elsewhere; these values must be read back, so they are encrypted.

Keys come from the environment, never from the database:
`CHANRONG_FIELD_KEYS="k2:<base64 32 bytes>,k1:<base64 32 bytes>"`, the
first is the current key (used to encrypt), the others still decrypt. Each
stored value names its key (`enc:v1:<key id>:<base64 nonce‖ciphertext‖tag>`),
so a rotation is: put a new key first, run `chanrong crypto rotate` (which
re-encrypts every encrypted column under it, resumably), then drop the old
key. Without the variable (development, tests) one key is derived from
SECRET_KEY (key id `dev`; list `dev` in the variable to keep reading values
written under it while rotating away); `chanrong check` warns loudly about
that in production.

Each ciphertext is bound to its table and column (AES-GCM associated data),
so a value cannot be copied into another column and still decrypt.

Encrypted values cannot be searched (a fresh nonce per write). Where a page
or an import must find a row by phone or e-mail, the model carries a
`KeyedHashField`: HMAC-SHA256 of the normalised value under a key derived
separately from each field key. Lookups go through `lookup_hashes(value)`,
which gives the hash under every key in the ring, so they still work half
way through a rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models

logger = logging.getLogger(__name__)

PREFIX = "enc:v1:"
DERIVED_KEY_ID = "dev"
_NONCE = 12


class DecryptionError(Exception):
    """A stored value that no key in the ring opens (unknown key id, wrong
    key, or tampered with)."""


@dataclass(frozen=True)
class FieldKey:
    key_id: str
    aead: AESGCM
    hash_key: bytes


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[FieldKey, ...]
    derived: bool  # True: no CHANRONG_FIELD_KEYS, the key comes from SECRET_KEY

    @property
    def current(self) -> FieldKey:
        return self.keys[0]

    def get(self, key_id: str) -> FieldKey | None:
        for key in self.keys:
            if key.key_id == key_id:
                return key
        return None


def _hkdf(material: bytes, info: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"chanrong.fieldcrypt", info=info
    ).derive(material)


def _make_key(key_id: str, material: bytes) -> FieldKey:
    # The encryption key and the hash key are both derived from the key
    # material, for different purposes: knowing hashes says nothing about
    # the encryption key and the other way round.
    return FieldKey(
        key_id=key_id,
        aead=AESGCM(_hkdf(material, b"aes-256-gcm")),
        hash_key=_hkdf(material, b"hmac-sha256-lookup"),
    )


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """`id:base64,id:base64` → [(id, 32 bytes)]; ImproperlyConfigured on
    anything else, naming the entry (never the key)."""
    out: list[tuple[str, bytes]] = []
    for index, item in enumerate(part.strip() for part in spec.split(",")):
        if not item:
            continue
        if item == DERIVED_KEY_ID:
            # The key derived from SECRET_KEY, listed to move off it (see
            # docs/deployment.md): its material is filled in by the ring.
            out.append((DERIVED_KEY_ID, b""))
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id or not key_id.isalnum() or len(key_id) > 16:
            raise ImproperlyConfigured(
                f"CHANRONG_FIELD_KEYS entry {index + 1}: expected <id>:<base64 key>, "
                "the id letters and digits (at most 16)"
            )
        try:
            material = base64.b64decode(encoded, validate=True)
        except ValueError:
            material = b""
        if len(material) != 32:
            raise ImproperlyConfigured(
                f"CHANRONG_FIELD_KEYS entry {index + 1} ({key_id}): the key must be 32 bytes, "
                "base64-encoded (`chanrong crypto newkey` prints one)"
            )
        if any(key_id == seen for seen, _material in out):
            raise ImproperlyConfigured(f"CHANRONG_FIELD_KEYS: key id {key_id} appears twice")
        out.append((key_id, material))
    return out


def _spec() -> str:
    spec = getattr(settings, "CHANRONG_FIELD_KEYS", None)
    return os.environ.get("CHANRONG_FIELD_KEYS", "") if spec is None else spec


@lru_cache(maxsize=8)
def _ring_for(spec: str, secret_key: str) -> KeyRing:
    parsed = parse_keys(spec)
    derived = hashlib.sha256(b"chanrong.fieldcrypt.dev:" + secret_key.encode()).digest()
    if parsed:
        keys = tuple(_make_key(kid, material or derived) for kid, material in parsed)
        return KeyRing(keys, derived=parsed[0][0] == DERIVED_KEY_ID)
    return KeyRing((_make_key(DERIVED_KEY_ID, derived),), derived=True)


def keyring() -> KeyRing:
    """The key ring for the current settings (cached per setting value, so
    `override_settings` in tests takes effect)."""
    return _ring_for(_spec(), settings.SECRET_KEY)


def new_key_line(key_id: str) -> str:
    """A fresh `id:base64` entry for CHANRONG_FIELD_KEYS."""
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


# --- values ----------------------------------------------------------------------------


def is_encrypted(stored: str | None) -> bool:
    return bool(stored) and stored.startswith(PREFIX)


def key_id_of(stored: str) -> str | None:
    if not is_encrypted(stored):
        return None
    return stored[len(PREFIX) :].split(":", 1)[0]


def encrypt(plaintext: str, *, context: str, ring: KeyRing | None = None) -> str:
    """`context` (table.column) is authenticated with the value."""
    if plaintext == "":
        return ""
    key = (ring or keyring()).current
    nonce = secrets.token_bytes(_NONCE)
    sealed = key.aead.encrypt(nonce, plaintext.encode(), context.encode())
    return f"{PREFIX}{key.key_id}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(stored: str, *, context: str, ring: KeyRing | None = None) -> str:
    """A stored value back to text. A value without the prefix is plain text
    written before encryption was switched on (the migration encrypts it;
    `chanrong crypto check` counts any left) and is returned as it is."""
    if not is_encrypted(stored):
        return stored
    key_id, _sep, body = stored[len(PREFIX) :].partition(":")
    key = (ring or keyring()).get(key_id)
    if key is None:
        raise DecryptionError(f"no key {key_id!r} in CHANRONG_FIELD_KEYS ({context})")
    try:
        raw = base64.b64decode(body, validate=True)
        return key.aead.decrypt(raw[:_NONCE], raw[_NONCE:], context.encode()).decode()
    except (ValueError, InvalidTag) as exc:
        raise DecryptionError(f"value does not open under key {key_id!r} ({context})") from exc


# --- keyed hashes ----------------------------------------------------------------------


#: Full-width ASCII to half-width; spaces, hyphens and brackets dropped.
_LOOKUP_TABLE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {
    ord(ch): None for ch in " -()\u3000－（）"
}


def normalise_lookup(value: str) -> str:
    """What two spellings of one phone or e-mail have in common: no spaces
    or hyphens, lower case, full-width digits made half-width."""
    return (value or "").strip().lower().translate(_LOOKUP_TABLE)


def keyed_hash(value: str, *, purpose: str, key: FieldKey | None = None) -> str:
    """HMAC-SHA256 (hex) of the normalised value; "" for an empty value.
    `purpose` (e.g. "phone") keeps one kind's hashes from matching another's."""
    text = normalise_lookup(value)
    if not text:
        return ""
    key = key or keyring().current
    digest = hmac.new(key.hash_key, f"{purpose}\x00{text}".encode(), hashlib.sha256).hexdigest()
    return digest


def lookup_hashes(value: str, *, purpose: str) -> list[str]:
    """The value's hash under every key in the ring: filter with
    `<hash field>__in=lookup_hashes(...)`, which finds rows not yet rotated."""
    found = [keyed_hash(value, purpose=purpose, key=key) for key in keyring().keys]
    return [h for h in dict.fromkeys(found) if h]


# --- model fields ----------------------------------------------------------------------


class EncryptedTextField(models.TextField):
    """Text stored encrypted (see the module docstring). Reads give plain
    text; only `isnull` and "is empty" (`= ""`) can be queried: any other
    lookup raises FieldError rather than silently matching nothing. Length
    is checked by the services (`max_length` here is for forms only)."""

    description = "Text encrypted with AES-GCM"

    def _context(self) -> str:
        return f"{self.model._meta.db_table}.{self.column}"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return decrypt(value, context=self._context())

    def to_python(self, value):
        if isinstance(value, str) and is_encrypted(value):
            return decrypt(value, context=self._context())
        return super().to_python(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if value is None or value == "" or is_encrypted(value):
            return value
        return encrypt(str(value), context=self._context())

    def get_lookup(self, lookup_name):
        if lookup_name not in ("isnull", "exact"):
            raise FieldError(
                f"{self.name} is encrypted: it cannot be searched with {lookup_name!r}; "
                "use its keyed hash field"
            )
        return super().get_lookup(lookup_name)


class _EmptyOnlyExact(models.lookups.Exact):
    """`encrypted_field=""` still works (blank is stored as ""); any other
    value would never match a ciphertext, so it is an error."""

    def get_db_prep_lookup(self, value, connection):
        if value not in ("", None):
            raise FieldError(
                "encrypted fields can only be compared with ''; use the keyed hash field"
            )
        return ("%s", [value])


EncryptedTextField.register_lookup(_EmptyOnlyExact)


class KeyedHashField(models.CharField):
    """The keyed hash of another field on the same model (`source`), kept in
    step on save() and bulk_create(). bulk_update() and raw writes call
    `fill_hashes(obj)` / `hash_row(model, row)` first."""

    def __init__(self, *args, source: str = "", purpose: str = "", **kwargs):
        self.source = source
        self.purpose = purpose or source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["purpose"] = self.purpose
        for key, default in (("max_length", 64), ("blank", True), ("editable", False)):
            if kwargs.get(key) == default:
                kwargs.pop(key, None)
        if kwargs.get("db_index") is True:
            kwargs.pop("db_index")
        else:
            kwargs["db_index"] = False
        return name, path, args, kwargs

    def compute(self, instance) -> str:
        return keyed_hash(getattr(instance, self.source) or "", purpose=self.purpose)

    def pre_save(self, model_instance, add):
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value


def encrypted_fields(model) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def hash_fields(model) -> list[KeyedHashField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, KeyedHashField)]


def fill_hashes(instance) -> None:
    """Set every keyed hash of `instance` from its source field (before a
    bulk_update that includes the hash fields)."""
    for field in hash_fields(type(instance)):
        setattr(instance, field.attname, field.compute(instance))


def hash_row(model, row: dict[str, Any]) -> dict[str, Any]:
    """The same for a dict of attname → value (raw upserts)."""
    for field in hash_fields(model):
        row[field.attname] = keyed_hash(row.get(field.source) or "", purpose=field.purpose)
    return row


def encrypt_row(model, row: dict[str, Any]) -> dict[str, Any]:
    """A copy of a raw row with the encrypted columns encrypted, for code
    that writes with its own SQL (the PostgreSQL import path)."""
    out = dict(row)
    for field in encrypted_fields(model):
        value = out.get(field.attname)
        if value:
            out[field.attname] = encrypt(str(value), context=field._context())
    return out


def encrypted_models() -> list[tuple[type[models.Model], list[EncryptedTextField]]]:
    from django.apps import apps

    found = []
    for model in apps.get_models():
        fields = encrypted_fields(model)
        if fields and not model._meta.proxy:
            found.append((model, fields))
    return sorted(found, key=lambda item: item[0]._meta.label)


def raw_value(field: EncryptedTextField) -> models.Func:
    """An expression selecting the stored (encrypted) text of `field`,
    bypassing its decryption: for checks and rotation."""
    return models.functions.Cast(models.F(field.attname), output_field=models.TextField())


def each_stored(
    model, fields: Iterable[EncryptedTextField], *, batch: int = 2000, after: Any = None
) -> Iterable[list[tuple[Any, dict[str, str | None]]]]:
    """Batches of (pk, {attname: stored text}), read raw (no decryption), in
    pk order, starting after pk `after`."""
    fields = list(fields)
    names = [f.attname for f in fields]
    last = after
    while True:
        queryset = model._base_manager.order_by("pk")
        if last is not None:
            queryset = queryset.filter(pk__gt=last)
        rows = list(queryset.values_list("pk", *[raw_value(f) for f in fields])[:batch])
        if not rows:
            return
        yield [(row[0], dict(zip(names, row[1:], strict=True))) for row in rows]
        last = rows[-1][0]


def _on_check_keys(**_kwargs) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    try:
        ring = keyring()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="chanrong.E101")]
    if ring.derived and getattr(settings, "PRODUCTION", False):
        messages.append(
            checks.Warning(
                "!!! CHANRONG_FIELD_KEYS is not set: personal fields are encrypted under a key "
                "derived from CHANRONG_SECRET_KEY. Set CHANRONG_FIELD_KEYS (see docs/deployment.md, "
                "'Field encryption keys'), then run `chanrong crypto rotate`. !!!",
                id="chanrong.W101",
            )
        )
    return messages


checks.register(_on_check_keys, checks.Tags.security, deploy=False)
