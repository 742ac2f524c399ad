"""env.py also serves the `alembic` command line: online from sqlalchemy.url, and offline (SQL script)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from alembic import command

from alerting_server.store import Store
from alerting_server.store.migrate import alembic_config, current_revision


def test_upgrade_from_a_url_then_the_store_sees_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")

    async def revision() -> str | None:
        store = await Store.open(url)
        try:
            return await current_revision(store.engine)
        finally:
            await store.close()

    assert asyncio.run(revision()) == "0013"


def test_offline_mode_renders_the_postgresql_script() -> None:
    output = io.StringIO()
    config = alembic_config()
    config.output_buffer = output
    config.set_main_option("sqlalchemy.url", "postgresql://u@db/alerting")
    command.upgrade(config, "head", sql=True)
    script = output.getvalue()
    assert "CREATE TABLE rules" in script
    assert "JSONB" in script
    assert "CONSTRAINT uq_channels_name UNIQUE (name)" in script
