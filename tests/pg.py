"""A throw-away PostgreSQL database for tests: created from `test`, dropped afterwards.

    async with temporary_database() as url:   # postgresql+asyncpg://.../alerting_test_<random>
        store = await Store.open(url)

PostgreSQL is a required peer: when it is unreachable this raises, and the test fails.
ALERTING_TEST_PG overrides the admin URL (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get("ALERTING_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@asynccontextmanager
async def temporary_database(prefix: str = "alerting_test") -> AsyncIterator[str]:
    """Yields the SQLAlchemy URL of a new, empty database."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(ADMIN_URL, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        url = make_url(ADMIN_URL).set(drivername="postgresql+asyncpg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(ADMIN_URL, timeout=10)
        try:
            # FORCE: a test that failed half-way may still hold connections.
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
