"""Durable state on SQLAlchemy 2 async: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) by URL.

The schema is owned by the Alembic migrations in migrations/versions/, applied by
`Store.migrate()` at start-up; tables.py mirrors it for queries.
"""

from alerting_server.store.connect import DEFAULT_URL, DatabaseUnavailable, check_url, normalize_url
from alerting_server.store.routing import route_from_json, route_to_json
from alerting_server.store.store import Store

__all__ = [
    "DEFAULT_URL",
    "DatabaseUnavailable",
    "Store",
    "check_url",
    "normalize_url",
    "route_from_json",
    "route_to_json",
]
