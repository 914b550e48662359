"""OpenAPI 3 at /api/v1/openapi.json and Swagger UI at /api/v1/docs, which
must work on an intranet: no asset, script or validator from outside the site."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


@pytest.fixture
def plain_static_storage(settings):
    """The hashed manifest exists only after `collectstatic`, which unit tests do not run."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def test_openapi_schema_is_public_and_complete(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/v1/regions",
        "/api/v1/regions/{code}",
        "/api/v1/industries",
        "/api/v1/industries/{code}",
        "/api/v1/enterprises",
        "/api/v1/enterprises/{id}",
        "/api/v1/institutions",
        "/api/v1/institutions/{id}",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/enterprises/{id}"]) == {"get", "patch", "delete"}
    assert set(paths["/api/v1/enterprises"]) == {"get", "post"}
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}


def test_every_operation_documents_its_errors(client):
    schema = client.get("/api/v1/openapi.json").json()
    error_ref = "#/components/schemas/ErrorOut"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for status in ("401", "403", "422"):
                content = responses[status]["content"]["application/json"]["schema"]
                assert content == {"$ref": error_ref}, (method, path, status)
            if "{" in path:
                assert "404" in responses, (method, path)
            if method in ("post", "patch"):
                assert "400" in responses, (method, path)
    error = schema["components"]["schemas"]["ErrorOut"]
    assert error["required"] == ["code", "message", "errors"]


def test_pagination_is_documented(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/enterprises"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["page_size"]["schema"]["maximum"] == 200
    assert params["page_size"]["schema"]["default"] == 50
    assert params["page"]["schema"]["minimum"] == 1
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][ok.rsplit("/", 1)[1]]
    assert set(page["required"]) == {"count", "page", "page_size", "results"}


def test_docs_page_uses_only_local_assets(client, plain_static_storage):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html

    # No http(s) URL at all, and no protocol-relative one (//cdn.example/...).
    assert not re.findall(r"https?://", html, flags=re.IGNORECASE)
    assert not re.findall(r"""(?:src|href)\s*=\s*["']//""", html, flags=re.IGNORECASE)
    # The public swagger.io validator badge is switched off.
    assert '"validatorUrl": null' in html

    # Every referenced asset is one of ours, served from STATIC_URL, and exists.
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert assets
    for url in assets:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), url


def test_schema_names_are_unique_across_routers():
    """django-ninja names OpenAPI components after the class; two routers with
    a class of the same name would silently overwrite each other's schema."""
    import ast
    from collections import defaultdict
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "chanrong"
    seen: dict[str, list[str]] = defaultdict(list)
    for path in root.rglob("api*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and any(
                getattr(base, "id", getattr(base, "attr", "")).endswith("Schema")
                for base in node.bases
            ):
                seen[node.name].append(str(path.relative_to(root)))
    assert {name: files for name, files in seen.items() if len(files) > 1} == {}
