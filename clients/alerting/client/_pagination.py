"""Follow next_page_token through a list method, yielding the items of every page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Protocol, TypeVar


class _Page(Protocol):
    @property
    def next_page_token(self) -> str: ...


P = TypeVar("P", bound=_Page)
T = TypeVar("T")


def pages(fetch: Callable[[str], P], items: Callable[[P], Iterable[T]]) -> Iterator[T]:
    token = ""
    while True:
        page = fetch(token)
        yield from items(page)
        token = page.next_page_token
        if not token:
            return


async def async_pages(
    fetch: Callable[[str], Awaitable[P]], items: Callable[[P], Iterable[T]]
) -> AsyncIterator[T]:
    token = ""
    while True:
        page = await fetch(token)
        for item in items(page):
            yield item
        token = page.next_page_token
        if not token:
            return
