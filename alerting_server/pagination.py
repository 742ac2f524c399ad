"""Pagination (AIP-158): page_size with a default and a cap, opaque page tokens."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

from alerting_server.errors import InvalidArgument

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class PageRequest:
    """A validated page request: at most `size` items from `offset` on."""

    size: int = DEFAULT_PAGE_SIZE
    offset: int = 0

    @classmethod
    def parse(cls, page_size: int, page_token: str, kind: str) -> PageRequest:
        """Validates page_size and page_token; `kind` binds a token to one list (rules, channels...)."""
        if page_size < 0:
            raise InvalidArgument.field("page_size", "must not be negative")
        size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        if not page_token:
            return cls(size, 0)
        try:
            decoded = base64.urlsafe_b64decode(page_token.encode("ascii")).decode("ascii")
            token_kind, _, offset_text = decoded.partition(":")
            offset = int(offset_text)
        except (ValueError, UnicodeError, binascii.Error):
            raise InvalidArgument.field("page_token", "not a page token of this list") from None
        if token_kind != kind or offset < 0:
            raise InvalidArgument.field("page_token", "not a page token of this list")
        return cls(size, offset)

    def next_token(self, kind: str, returned: int, more: bool) -> str:
        if not more:
            return ""
        return base64.urlsafe_b64encode(f"{kind}:{self.offset + returned}".encode("ascii")).decode("ascii")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str = ""
