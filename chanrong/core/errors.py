"""Errors that services raise and the edges (web, API, commands) translate.

The API turns each into DESIGN.md's error shape:
    {"code": "...", "message": "...", "errors": [{"field": "...", "message": "..."}]}
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _


@dataclass
class FieldError:
    field: str
    message: str


@dataclass
class ServiceError(Exception):
    message: str
    errors: list[FieldError] = field(default_factory=list)
    code: str = "error"
    status: int = 400

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "errors": [{"field": e.field, "message": e.message} for e in self.errors],
        }


class ValidationFailed(ServiceError):
    def __init__(self, errors: list[FieldError] | dict[str, str], message: str | None = None):
        if message is None:
            message = _("输入有误")
        if isinstance(errors, dict):
            errors = [FieldError(k, v) for k, v in errors.items()]
        super().__init__(message=message, errors=errors, code="invalid", status=422)


class NotAllowed(ServiceError):
    """The actor may not do this (403)."""

    def __init__(self, message: str | None = None):
        if message is None:
            message = _("无权执行此操作")
        super().__init__(message=message, code="forbidden", status=403)


class Conflict(ServiceError):
    """Not possible in the object's current state (409)."""

    def __init__(self, message: str, code: str = "conflict"):
        super().__init__(message=message, code=code, status=409)


class NotFound(ServiceError):
    def __init__(self, message: str | None = None):
        if message is None:
            message = _("未找到")
        super().__init__(message=message, code="not_found", status=404)
