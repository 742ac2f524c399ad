"""The key of acknowledgement links: configured, or generated once and kept in the store, so that
links in notifications already sent keep working after a restart (and on every replica)."""

from __future__ import annotations

import secrets

from alerting_server.store import Store

ACK_LINKS = "ack_links"


async def ack_link_secret(store: Store, configured: str, now: int) -> bytes:
    if configured:
        return configured.encode()
    value = await store.server_secrets.get_or_create(ACK_LINKS, lambda: secrets.token_hex(32), now)
    return value.encode()
