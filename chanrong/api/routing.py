"""The API's URL patterns, nested by their first path segment.

django-ninja lists every operation's path flat: about 340 patterns under
/api/v1/. Django tries them in order and, at each level, copies the list of
patterns it tried into the match, so a path near the end of the list (health
was the 332nd) cost about 0.8 ms of CPU to resolve: half of what the whole
health request costs (issue 20, docs/performance.md "The request path").

`nest_by_segment` groups the patterns whose route starts with the same
literal segment and a slash (`demands/…`) under one `include("demands/")`,
so a request tries a few dozen prefixes (a `str.startswith` each) and then
only its own segment's patterns. Resolution is unchanged: the same view,
arguments, name and route string for every path, because

- a pattern whose route starts with a literal `segment/` can only match
  paths that start with it, so moving it into its segment's group cannot let
  another pattern win in its place (another group's paths, and a literal
  route without a slash such as `health`, are disjoint from it);
- any other pattern (a regex such as the catch-all 404, a converter in the
  first segment, the empty route, an include) is a barrier: it stays where
  it was, and groups are closed before it, so nothing moves across it;
- the includes have no namespace, so `reverse("api:…")` is unchanged.

A route in a group keeps no leading slash (`demands/<int:id>` becomes
`<int:id>` under `demands/`), so Django's URL checks stay quiet.

tests/api/test_routing.py resolves every operation's path both ways.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path
from django.urls.resolvers import RoutePattern

_LITERAL = ""  # a literal route without a slash: stays in place, not a barrier


def _segment(pattern: URLPattern | URLResolver) -> str | None:
    """`head/` for a route starting with a literal segment and a slash;
    `_LITERAL` for a literal endpoint without one; None for a barrier."""
    if not isinstance(pattern.pattern, RoutePattern):
        return None
    route = str(pattern.pattern._route)
    head, slash, _rest = route.partition("/")
    if not head or "<" in head:
        return None
    if not slash:
        literal = isinstance(pattern, URLPattern) and not pattern.pattern.converters
        return _LITERAL if literal else None
    return head + "/"


def _strip(pattern: URLPattern | URLResolver, segment: str) -> URLPattern | URLResolver:
    """The same pattern with `segment` taken off the front of its route."""
    route = str(pattern.pattern._route)[len(segment) :]
    if isinstance(pattern, URLPattern):
        return path(route, pattern.callback, kwargs=pattern.default_args, name=pattern.pattern.name)
    return URLResolver(
        RoutePattern(route, is_endpoint=False),
        pattern.urlconf_name,
        pattern.default_kwargs,
        pattern.app_name,
        pattern.namespace,
    )


def nest_by_segment(
    patterns: list[URLPattern | URLResolver],
) -> list[URLPattern | URLResolver]:
    """`patterns`, with each run of same-first-segment routes in one include."""
    nested: list[URLPattern | URLResolver] = []
    open_groups: dict[str, list] = {}
    for pattern in patterns:
        segment = _segment(pattern)
        if segment is None:
            open_groups = {}  # a barrier: nothing moves across it
            nested.append(pattern)
            continue
        if segment == _LITERAL:
            nested.append(pattern)
            continue
        group = open_groups.get(segment)
        if group is None:
            group = open_groups[segment] = []
            nested.append((segment, group))  # type: ignore[arg-type]
        group.append(_strip(pattern, segment))
    return [path(item[0], include(item[1])) if isinstance(item, tuple) else item for item in nested]
