"""Follow next_page_token through a list method, yielding the items of every page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Protocol, TypeVar


class _Page(Protocol):
    @property
    def next_page_token(self) -> str: ...


P = TypeVar("P", bound=_Page)
R_co = TypeVar("R_co", covariant=True)
T = TypeVar("T")


class Fetch(Protocol[R_co]):
    """A list method with every argument but the page token bound (functools.partial)."""

    def __call__(self, *, page_token: str) -> R_co: ...


def pages(fetch: Fetch[P], items: Callable[[P], Iterable[T]]) -> Iterator[T]:
    token = ""
    while True:
        page = fetch(page_token=token)
        yield from items(page)
        token = page.next_page_token
        if not token:
            return


async def async_pages(fetch: Fetch[Awaitable[P]], items: Callable[[P], Iterable[T]]) -> AsyncIterator[T]:
    token = ""
    while True:
        page = await fetch(page_token=token)
        for item in items(page):
            yield item
        token = page.next_page_token
        if not token:
            return
