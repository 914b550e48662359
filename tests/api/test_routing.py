"""The API's nested URL patterns resolve every path as ninja's flat list does
(chanrong/api/routing.py)."""

from __future__ import annotations

import re

import pytest
from django.urls import URLResolver, include, path, resolve, reverse
from django.urls.resolvers import RoutePattern

from chanrong.api.api import api
from chanrong.api.routing import nest_by_segment

SAMPLES = {
    "int": "1234",
    "str": "abc",
    "slug": "a-b",
    "uuid": "0b7e1a60-4a8e-4b8e-9a1e-1a2b3c4d5e6f",
}


def _resolver(patterns) -> URLResolver:
    return URLResolver(RoutePattern("api/v1/"), [path("", include(patterns))])


def _routes(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern.pattern, RoutePattern):
            yield prefix + str(pattern.pattern)


def _sample(route: str) -> str:
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES.get(m.group(1) or "str", "abc"), route)


def _paths() -> list[str]:
    paths = [_sample(route) for route in _routes(api.flat_urls())]
    # Near misses and unknown paths: every one must reach the same (404) view.
    paths += [p + "x" for p in paths] + [p + "/" for p in paths]
    paths += ["", "nope", "demands/", "demands/abc", "demandsx", "health/", "//", "policy/x/y/z"]
    return sorted(set(paths))


def _seen(resolver: URLResolver, path_: str):
    # Each call of flat_urls() makes new view wrappers, so the pattern is
    # identified by its name and full route (unique per operation path).
    match = resolver.resolve("api/v1/" + path_)
    return match.func.__qualname__, match.args, match.kwargs, match.url_name, match.route


def test_every_path_resolves_as_the_flat_list_does():
    flat = _resolver(api.flat_urls())
    nested = _resolver(nest_by_segment(api.flat_urls()))
    paths = _paths()
    assert len(paths) > 600
    different = [p for p in paths if _seen(flat, p) != _seen(nested, p)]
    assert different == []


def test_the_nested_list_is_short():
    """What the nesting is for: a request tries dozens of patterns, not hundreds."""
    flat, nested = api.flat_urls(), nest_by_segment(api.flat_urls())
    assert len(flat) > 300
    assert len(nested) < len(flat) / 4


def test_a_barrier_is_never_crossed():
    """A pattern that could match another segment's paths keeps its place."""

    def view(name):
        def callback(request, **kwargs):
            return name

        callback.__name__ = name
        return callback

    patterns = [
        path("a/one", view("a_one")),
        path("<str:anything>/two", view("barrier")),
        path("a/two", view("a_two")),
        path("b/two", view("b_two")),
    ]
    nested = _resolver(nest_by_segment(patterns))
    assert nested.resolve("api/v1/a/one").func.__name__ == "a_one"
    assert nested.resolve("api/v1/a/two").func.__name__ == "barrier"
    assert nested.resolve("api/v1/b/two").func.__name__ == "barrier"


@pytest.mark.urls("chanrong.urls")
def test_reversing_and_resolving_the_real_urls():
    assert reverse("api:health") == "/api/v1/health"
    assert resolve("/api/v1/health").url_name == "health"
    match = resolve("/api/v1/demands/12")
    assert (match.url_name, match.route, match.kwargs) == (
        "get_demand",
        "api/v1/demands/<id>",
        {"id": "12"},
    )
