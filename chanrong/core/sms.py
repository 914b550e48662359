"""Text messages through a pluggable provider.

China's SMS gateways (运营商 or cloud vendors) each have their own API and
need a signed contract and an approved signature (短信签名) and templates, so
the platform ships no real provider: an operator writes a class with one
`send` method and names it in CHANRONG_SMS_PROVIDER. The console provider
(the default) prints messages, for the demo; the recording provider keeps
them in memory, for tests.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol, runtime_checkable

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

#: Mainland mobile numbers: 11 digits starting 13–19, optionally written with +86 / 0086.
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


class SmsError(Exception):
    """The provider could not accept the message (the task retries it)."""


@runtime_checkable
class SmsProvider(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Hand one message to the gateway; raise SmsError (or any error) if it refused."""


def normalise_phone(raw: str) -> str | None:
    """The 11-digit mobile number in `raw` (spaces, dashes and +86 allowed), or
    None when it is not a mainland mobile number (landlines cannot get SMS)."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    return digits if MOBILE.match(digits) else None


class ConsoleSmsProvider:
    """Prints each message to standard output (the demo's provider)."""

    def __init__(self, stream=None):
        self.stream = stream

    def send(self, phone: str, text: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(f"[SMS] to {phone}: {text}\n")
        stream.flush()


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    sent_at: datetime = field(default_factory=timezone.now)


class RecordingSmsProvider:
    """Keeps every message in `RecordingSmsProvider.outbox` (shared by all
    instances, like django.core.mail.outbox), so a test can assert on what
    was sent whichever process-local instance the task used."""

    outbox: ClassVar[list[SmsMessage]] = []
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def send(self, phone: str, text: str) -> None:
        with self._lock:
            self.outbox.append(SmsMessage(phone=phone, text=text))

    @classmethod
    def clear(cls) -> None:
        with cls._lock:
            cls.outbox.clear()


def get_provider() -> SmsProvider:
    """The configured provider (a new instance per call: providers hold no
    state the platform relies on, and a settings override takes effect at once)."""
    path = getattr(settings, "CHANRONG_SMS_PROVIDER", "") or "chanrong.core.sms.ConsoleSmsProvider"
    provider = import_string(path)()
    if not isinstance(provider, SmsProvider):
        raise TypeError(f"{path} has no send(phone, text) method")
    return provider


def send_now(phone: str, text: str) -> None:
    """Send one message synchronously (the SMS task calls this)."""
    get_provider().send(phone, text)
    logger.info("SMS sent to %s***%s", phone[:3], phone[-2:])
