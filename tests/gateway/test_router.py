"""The gateway's indexed router chooses as Starlette's own router does, route for route: on the
gateway's real routes and on routes made to catch it out (a route for every first segment between
others, one shadowing another, a mount at the root, methods that make a 405, trailing slashes)."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Awaitable, Callable

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway import create_app
from gateway.router import IndexedRouter

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def endpoint(n: int) -> Callable[[Request], Awaitable[Response]]:
    async def answer(request: Request) -> Response:
        return PlainTextResponse(f"route {n} {sorted(request.path_params.items())}")

    return answer


def mounted(n: int) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse(f"mount {n} {scope.get('path_params')}")(scope, receive, send)

    return app


def copies(routes: list[BaseRoute]) -> list[BaseRoute]:
    """Routes of the same shapes whose answers say which one answered."""
    out: list[BaseRoute] = []
    for n, route in enumerate(routes):
        if isinstance(route, Mount):
            out.append(Mount(route.path, app=mounted(n)))
        else:
            assert isinstance(route, Route)
            out.append(Route(route.path, endpoint(n), methods=route.methods))
    return out


def filled(path: str) -> list[str]:
    """Paths a route's template matches, and near misses."""
    plain = re.sub(r"\{[^}:]+:path\}", "a/b", path)
    plain = re.sub(r"\{[^}]+\}", "x1", plain)
    base = plain if plain else "/"
    return [
        base,
        base.rstrip("/") + "/",
        base + "/more",
        base.rstrip("/") + "x",
        "/" + base.strip("/").split("/")[0],
    ]


async def answers(router: Router, requests: list[tuple[str, str]]) -> list[tuple[int, str, str]]:
    out = []
    transport = httpx.ASGITransport(app=router)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        for method, path in requests:
            r = await client.request(method, f"http://gateway{path}")
            out.append((r.status_code, r.text, r.headers.get("location", "")))
    return out


def both(routes: list[BaseRoute], requests: list[tuple[str, str]]) -> None:
    expected = asyncio.run(answers(Router(routes), requests))
    got = asyncio.run(answers(IndexedRouter(routes), requests))
    for request, want, have in zip(requests, expected, got, strict=True):
        assert have == want, request


def test_the_gateway_routes_are_chosen_as_starlette_chooses_them() -> None:
    routes = copies(create_app("127.0.0.1:1").routes)
    paths = sorted({p for r in routes for p in filled(getattr(r, "path", "/"))} | {"/", "//", "/nowhere"})
    both(routes, list(itertools.product(METHODS, paths)))


TRICKY: list[BaseRoute] = [
    Route("/healthz", endpoint(0), methods=["GET"]),
    Route("/rules/{id}", endpoint(1), methods=["GET", "DELETE"]),
    Route("/rules/import", endpoint(2), methods=["GET", "POST"]),
    Route("/{anything}", endpoint(3), methods=["PUT"]),
    Route("/rules:export", endpoint(4), methods=["GET"]),
    Route("/rules/import", endpoint(5), methods=["PATCH"]),
    Route("/r{suffix}", endpoint(6), methods=["GET"]),
    Mount("/ui", app=mounted(7)),
    Route("/ui/exact", endpoint(8), methods=["GET"]),
    Route("/", endpoint(9), methods=["GET"]),
    Route("/files/{rest:path}", endpoint(10), methods=["GET"]),
    Mount("", app=mounted(11)),
    Route("/late", endpoint(12), methods=["GET"]),
]
SEGMENTS = [
    "",
    "rules",
    "import",
    "x1",
    "rules:export",
    "ui",
    "exact",
    "healthz",
    "files",
    "a",
    "late",
    "rx",
    "r",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(SEGMENTS), min_size=0, max_size=4),
    st.booleans(),
    st.sampled_from(METHODS),
    st.permutations(TRICKY),
)
def test_routes_made_to_catch_it_out_are_chosen_as_starlette_chooses_them(
    segments: list[str], slash: bool, method: str, routes: list[BaseRoute]
) -> None:
    path = "/" + "/".join(segments) + ("/" if slash and segments else "")
    both(routes, [(method, path)])


@pytest.mark.parametrize("routes", [TRICKY, list(reversed(TRICKY))])
def test_every_segment_and_method_of_the_tricky_routes(routes: list[BaseRoute]) -> None:
    paths = sorted({p for r in routes for p in filled(getattr(r, "path", "/"))})
    both(routes, list(itertools.product(METHODS, paths)))
