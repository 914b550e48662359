"""Enumerating /api/v1 from its OpenAPI document, building a request per
(operation, role, case), and judging the answer.

Every request runs inside a savepoint that is rolled back, so a write that
succeeds on an own object (a withdrawal, a deletion) leaves the world as it
was for the next cell, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from .expectations import denied
from .resolvers import NA, Missing, resolver_for
from .world import ROLE_USERS, ROLES, AuthzWorld, kind_of

API = "/api/v1"
WRITE_METHODS = {"post", "put", "patch", "delete"}
NO_SUCH_ID = 987654321


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the template under /api/v1, e.g. /demands/{id}
    params: tuple[str, ...]  # path parameters, left to right
    public: bool
    body: dict | None  # the requestBody's schema, resolved, or None
    multipart: bool
    query: dict[str, Any]  # required query parameters and their schemas

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS


@dataclass
class Cell:
    op: str
    role: str
    case: str
    status: int | None = None
    problem: str = ""
    skipped: str = ""


# -- the document -------------------------------------------------------------


def operations(document: dict) -> list[Operation]:
    components = document.get("components", {}).get("schemas", {})
    ops = []
    for full_path, methods in document["paths"].items():
        path = full_path.removeprefix(API)
        for method, spec in methods.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            names = tuple(re.findall(r"{(\w+)}", path))
            security = spec.get("security")
            public = not security or {} in security
            body, multipart = None, False
            content = spec.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = _deref(content["application/json"].get("schema", {}), components)
            elif "multipart/form-data" in content:
                body = _deref(content["multipart/form-data"].get("schema", {}), components)
                multipart = True
            query = {
                p["name"]: _deref(p.get("schema", {}), components)
                for p in spec.get("parameters", [])
                if p["in"] == "query" and p.get("required")
            }
            ops.append(Operation(method, path, names, public, body, multipart, query))
    return ops


def _deref(schema: Any, components: dict, depth: int = 0) -> Any:
    if depth > 12:
        return {}
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return _deref(components.get(name, {}), components, depth + 1)
        return {k: _deref(v, components, depth + 1) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_deref(v, components, depth + 1) for v in schema]
    return schema


#: Strings tried, in order, against a schema's pattern.
CANDIDATES = ("x", "2025-03", "2026", "330421", "C34", "2026-06-01", "a1")


def example(schema: dict) -> Any:
    """A small value valid for `schema` where that is cheap (required fields
    only); authorisation must not depend on it, so it need not be clever,
    but a body the schema accepts lets the request reach the handler, where
    the object is looked up."""
    if not isinstance(schema, dict):
        return None
    for key in ("example", "default"):
        if key in schema and schema[key] is not None:
            return schema[key]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return example(options[0]) if options else None
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        given = schema.get("examples", [{}])[0]
        value = dict(given) if isinstance(given, dict) else {}
        for name in schema.get("required", []):
            if name not in value:
                value[name] = example(props.get(name, {}))
        return value
    if schema.get("examples"):
        return schema["examples"][0]
    if kind == "array":
        n = max(schema.get("minItems", 0), 1)
        return [example(schema.get("items", {})) for _ in range(n)]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return True
    if kind == "string":
        return _string(schema)
    return None


def _string(schema: dict) -> Any:
    fmt = schema.get("format")
    if fmt == "date":
        return "2026-06-01"
    if fmt == "date-time":
        return "2026-06-01T09:00:00+08:00"
    if fmt == "binary":
        return SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    length = max(schema.get("minLength", 1), 1)
    pattern = schema.get("pattern")
    if not pattern:
        return "x" * length
    choice = re.match(r"^\^\(?([\w-]+)[|)$]", pattern)  # ^(a|b)$ or ^a$: the first word
    candidates = ([choice.group(1)] if choice else []) + [c * length for c in CANDIDATES]
    for candidate in candidates:
        try:
            if re.fullmatch(pattern, candidate):
                return candidate
        except re.error:
            break
    return "x" * length


# -- running a cell ------------------------------------------------------------


def fill(op: Operation, world: AuthzWorld, role: str, case: str) -> tuple[dict, dict] | NA:
    """The path's parameter values and the required query parameters; NA when
    the case does not exist; raises Missing when the world lacks the object
    (run_operation has checked that every parameter has a resolver). A required query parameter is resolved like a path parameter
    when the table has an entry for it (a plan's year), else from its schema."""
    kind = kind_of(role)
    if case == "foreign" and not op.params:
        return NA("no object in the path")
    ctx: dict[str, Any] = {
        "path": op.path,
        "method": op.method,
        "username": ROLE_USERS.get(role, ""),
    }
    for name in op.params:
        resolve = resolver_for(op.path, name)
        value = resolve(world, "platform" if kind == "anonymous" else kind, case, ctx)
        if isinstance(value, NA):
            return value
        ctx[name] = value
    query = {}
    for name, schema in op.query.items():
        resolve = resolver_for(op.path, name)
        value = resolve(world, kind, case, ctx) if resolve else example(schema)
        query[name] = example(schema) if isinstance(value, NA) else value
    return {name: ctx[name] for name in op.params}, query


def url(op: Operation, values: dict) -> str:
    path = op.path
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    return API + path


def send(client: Client, op: Operation, path: str, token: str | None, query: dict):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kwargs: dict[str, Any] = {"headers": headers}
    if query:
        kwargs["query_params"] = query
    if op.body is not None:
        body = example(op.body) or {}
        if op.multipart:
            kwargs["data"] = body
        else:
            kwargs["data"] = json.dumps(body, default=str)
            kwargs["content_type"] = "application/json"
    elif op.method in ("post", "put", "patch"):
        kwargs["data"] = "{}"
        kwargs["content_type"] = "application/json"
    with transaction.atomic():
        response = getattr(client, op.method)(path, **kwargs)
        transaction.set_rollback(True)
    return response


def unresolved(op: Operation) -> list[str]:
    return [name for name in op.params if resolver_for(op.path, name) is None]


def run_operation(op: Operation, world: AuthzWorld) -> list[Cell]:
    if missing := unresolved(op):
        return [
            Cell(
                op.id,
                "every role",
                "every case",
                problem=f"no resolver for path parameter(s) {', '.join(missing)}: add them to "
                "RESOLVERS in tests/api/authz/resolvers.py",
            )
        ]
    client = Client(raise_request_exception=False)
    cells: list[Cell] = []
    for role in ROLES:
        cases = ("any",) if role == "anonymous" else ("own", "foreign")
        for case in cases:
            cell = Cell(op.id, role, case)
            cells.append(cell)
            try:
                filled = fill(op, world, role, "own" if case == "any" else case)
            except Missing as exc:
                cell.problem = f"world: {exc}"
                continue
            if isinstance(filled, NA):
                cell.skipped = filled.reason
                continue
            values, query = filled
            token = world.tokens.get(role)
            response = send(client, op, url(op, values), token, query)
            cell.status = response.status_code
            cell.problem = judge(op, role, case, response)
            if cell.problem == PROBE:
                cell.problem = probe(client, op, values, token, query, response)
    return cells


#: judge()'s answer when only a request for an id that does not exist can tell.
PROBE = "probe"


def judge(op: Operation, role: str, case: str, response) -> str:
    status = response.status_code
    detail = _detail(response)
    if status >= 500:
        return f"{status} server error {detail}"
    if status == 429:
        return "429 (rate limit not raised for the matrix)"
    if role == "anonymous":
        if op.public:
            return "" if status < 400 or op.is_write else f"public, got {status} {detail}"
        return "" if status == 401 else f"expected 401, got {status} {detail}"
    if status == 401:
        return f"401 with a valid token {detail}"
    refused = denied(op.method, op.path, role)
    if case == "own" and refused:
        if 200 <= status < 300:
            return f"answered {status}, but this role may not use it ({refused})"
        return (
            "" if status in (403, 404) else f"expected 403/404 ({refused}), got {status} {detail}"
        )
    if case == "own":
        if op.method == "get" and not 200 <= status < 300:
            return f"own object read: expected 2xx, got {status} {detail}"
        return ""
    if 200 <= status < 300:
        return f"LEAK: foreign object answered {status}"
    if status == 404:
        return ""
    if status == 403 and op.is_write:
        return ""  # visible-but-not-yours or not-for-your-role: both conventions
    return PROBE  # a 403 on a read, or a 4xx that may come from validating first


def probe(client: Client, op: Operation, values: dict, token, query: dict, seen) -> str:
    """A foreign object's answer other than 404 (a 403 on a read, a 400/409/422
    on a write) is fine only when an id that does not exist gets the very same
    answer: then it says nothing about the object (the role may not use the
    operation at all, or the body's shape was refused before any lookup).
    Otherwise it confirms that the object exists, or validated it first."""
    first = next((n for n in op.params if isinstance(values[n], int)), None)
    if first is None:
        return f"foreign object answered {seen.status_code} {_detail(seen)}"
    response = send(client, op, url(op, {**values, first: NO_SUCH_ID}), token, query)
    if response.status_code == seen.status_code and response.content == seen.content:
        return ""
    return (
        f"foreign object answered {seen.status_code} {_detail(seen)}, a missing one "
        f"{response.status_code} {_detail(response)}: the answer reveals the object"
    )


def _detail(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        errors = body.get("errors") or []
        fields = ",".join(str(e.get("field")) for e in errors[:3] if isinstance(e, dict))
        return f"[{body.get('code', '')}{': ' + fields if fields else ''}]"
    return ""


def format_failures(cells: list[Cell]) -> str:
    lines = [f"{c.op} × {c.role} × {c.case}: {c.problem}" for c in cells if c.problem]
    return f"{len(lines)} cell(s) failed:\n" + "\n".join(lines)
