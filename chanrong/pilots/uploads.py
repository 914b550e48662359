"""Checking uploaded files for the pilot programme: the kernel's check
(`chanrong.core.uploads`: type by extension AND by content, and size) with
the programme's own size limit, `settings.CHANRONG_PILOT_MAX_UPLOAD_BYTES`
(default 20 MB), read at call time so tests and deployments can change it.
"""

from __future__ import annotations

from django.conf import settings

from chanrong.core import uploads as _core
from chanrong.core.uploads import (  # noqa: F401 (re-exported for the pilot app)
    CONTENT_TYPES,
    DEFAULT_MAX_BYTES,
    MATERIAL_TYPES,
    PDF_ONLY,
    CheckedFile,
    sniff,
)


def max_upload_bytes() -> int:
    return int(getattr(settings, "CHANRONG_PILOT_MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES))


def check_upload(upload, allowed: tuple[str, ...], *, field: str = "file") -> CheckedFile:
    """Validate one uploaded file against the pilot programme's size limit;
    raise ValidationFailed naming `field`."""
    return _core.check_upload(upload, allowed, field=field, max_bytes=max_upload_bytes())
