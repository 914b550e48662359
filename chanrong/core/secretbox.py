"""Encrypt secrets that the platform must be able to read back (a webhook's
signing secret), as opposed to secrets it only checks (passwords, API
tokens), which are hashed.

Fernet (AES-128-CBC + HMAC-SHA256, from the `cryptography` package) with a
key derived from SECRET_KEY: a copy of the database alone does not reveal
the secrets. Rotation follows Django's own: move the old key to
SECRET_KEY_FALLBACKS, and values encrypted under it still decrypt (and are
re-encrypted under the new key the next time they are written).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "encrypt"]

_INFO = b"chanrong.secretbox.v1"


def _fernet(secret_key: str, purpose: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=purpose.encode(), info=_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _box(purpose: str) -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet(key, purpose) for key in keys])


def encrypt(plaintext: str, *, purpose: str) -> str:
    """`purpose` separates keys per use, so one kind of ciphertext cannot be
    swapped for another."""
    return _box(purpose).encrypt(plaintext.encode()).decode()


def decrypt(token: str, *, purpose: str) -> str:
    """Raises InvalidToken when the value was encrypted under a key that is
    neither SECRET_KEY nor in SECRET_KEY_FALLBACKS (or was tampered with)."""
    return _box(purpose).decrypt(token.encode()).decode()
