"""Checking uploaded files: type by extension AND by content, and size.

A file is accepted only when its extension is one the slot allows and its
first bytes (and, for Office Open XML, its zip directory) say it really is
that type: a renamed executable or an HTML page called "申报文件.pdf" is
refused. The size limit is the caller's (`max_bytes`), else
`settings.CHANRONG_MAX_UPLOAD_BYTES` (default 20 MB), read at call time so
tests and deployments can change it.

In the kernel because every app that takes supporting material (the pilot
programme's 申报材料, a policy application's 借款合同 and 付息凭证) must
refuse the same things in the same words; `chanrong.pilots.uploads` keeps
its own size setting on top of this.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.utils.translation import gettext as _

from chanrong.core.errors import ValidationFailed

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

PDF_ONLY = ("pdf",)
MATERIAL_TYPES = ("pdf", "doc", "docx", "xls", "xlsx", "jpg", "png")

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
    "png": "image/png",
    "ofd": "application/ofd",
}
_EXTENSIONS = {"jpeg": "jpg"}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PNG = b"\x89PNG\r\n\x1a\n"


def max_upload_bytes() -> int:
    return int(getattr(settings, "CHANRONG_MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES))


def _format_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.0f} MB"
    return f"{max(1, n // 1024)} KB"


def sniff(head: bytes, data_reader) -> str | None:
    """The type the content says it is (None when unknown). `data_reader()`
    returns the whole file, read only for zip containers."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(_PNG):
        return "png"
    if head.startswith(_OLE2):
        return "ole2"  # .doc or .xls: the same container, told apart by extension only
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data_reader())) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "OFD.xml" in names:
            return "ofd"  # GB/T 33190 版式文件 (电子发票): a zip with OFD.xml at its root
        if "[Content_Types].xml" not in names:
            return None
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    return None


@dataclass
class CheckedFile:
    name: str
    file_type: str
    size: int
    sha256: str
    content: bytes

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.file_type]


def check_upload(
    upload, allowed: tuple[str, ...], *, field: str = "file", max_bytes: int | None = None
) -> CheckedFile:
    """Validate one uploaded file (a Django UploadedFile or any object with
    `.name`, `.size` and `.read()`); raise ValidationFailed naming `field`.
    `max_bytes` None: `max_upload_bytes()`."""
    if upload is None:
        raise ValidationFailed({field: _("请选择要上传的文件")})
    raw_name = PurePath(str(getattr(upload, "name", "") or "")).name.strip()
    name = "".join(ch for ch in raw_name if ch.isprintable() and ch not in '\\/:*?"<>|')[:150]
    extension = PurePath(name).suffix.lower().lstrip(".")
    extension = _EXTENSIONS.get(extension, extension)
    allowed_label = "、".join(t.upper() for t in allowed)
    if not name or extension not in allowed:
        raise ValidationFailed(
            {field: _("文件类型不符：只接受 %(types)s 文件") % {"types": allowed_label}}
        )
    limit = max_upload_bytes() if max_bytes is None else int(max_bytes)
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ValidationFailed(
            {field: _("文件过大：不能超过 %(limit)s") % {"limit": _format_size(limit)}}
        )
    if hasattr(upload, "seek"):
        upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise ValidationFailed(
            {field: _("文件过大：不能超过 %(limit)s") % {"limit": _format_size(limit)}}
        )
    if not content:
        raise ValidationFailed({field: _("文件是空的")})
    found = sniff(content[:16], lambda: content)
    matches = found == extension or (found == "ole2" and extension in ("doc", "xls"))
    if not matches:
        raise ValidationFailed(
            {
                field: _("文件内容与扩展名 .%(ext)s 不符，请上传真实的 %(types)s 文件")
                % {"ext": extension, "types": allowed_label}
            }
        )
    return CheckedFile(
        name=name,
        file_type=extension,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
