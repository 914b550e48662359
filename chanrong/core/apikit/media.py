"""JSON request bodies only as `application/json`.

django-ninja parses a JSON body whatever the request's Content-Type says, so
`text/plain`, XML-labelled, form-encoded or unlabelled bodies were read as
JSON and created objects. A body is parsed here, by the API's `Parser`, only
when the operation declares a JSON body; any other media type is refused
with 415 `unsupported_media_type`. Operations that take uploads declare
`File` / `Form` parameters, which django-ninja reads from Django's
multipart parser and never through this class, so multipart stays accepted
exactly there and nowhere else.

ninja wraps whatever `parse_body` raises into a 400 `HttpError`; the API's
error handler (`errors._http_error`) recognises `UnsupportedMediaType` as
the cause and answers 415.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser

JSON_MEDIA_TYPES = frozenset({"application/json"})


class UnsupportedMediaType(Exception):
    def __init__(self, content_type: str) -> None:
        super().__init__(content_type)
        self.content_type = content_type


def media_type(request: HttpRequest) -> str:
    """`application/json; charset=utf-8` → `application/json`."""
    return request.content_type.split(";", 1)[0].strip().lower() if request.content_type else ""


class JsonOnlyParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        kind = media_type(request)
        if kind not in JSON_MEDIA_TYPES:
            raise UnsupportedMediaType(request.META.get("CONTENT_TYPE", ""))
        charset = (request.content_params or {}).get("charset", "utf-8").lower()
        if charset.replace("-", "") not in {"utf8"}:
            raise UnsupportedMediaType(request.META.get("CONTENT_TYPE", ""))
        return super().parse_body(request)
