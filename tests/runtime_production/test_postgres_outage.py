"""The demo pointed at the machine's PostgreSQL: while the link to the database is cut the
backlog grows in the sync status, and once it is back the backlog drains into the table with no
gap in the bookings and no key twice. The outage is a TCP proxy the test cuts; PostgreSQL itself
keeps running."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hmi_app.core.project.loader import demo_project_dir
from hmi_app.runtime.runtime import Runtime
from tests.runtime_production.helpers import chain_checked, clock_at, demo_plant, open_demo
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import wait_until

PG = "host=127.0.0.1 port=5432 dbname=test user=postgres"


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("HMI_APP_DATA_DIR", str(folder))
    return folder


def _project(folder: Path, port: int, table: str) -> Path:
    """A copy of the demo with a PostgreSQL target reached through the proxy's port."""
    shutil.copytree(demo_project_dir(), folder)
    project_file = folder / "project.yaml"
    text = project_file.read_text(encoding="utf-8")
    text = text.replace("  name: Demo bottling plant", "  name: Postgres outage test")
    drop = "  file_drop: {kind: file, folder: drop}   # CSV and JSON Lines per shift\n"
    assert drop in text, "the demo's sync target line moved: update this test"
    text = text.replace(
        drop,
        drop
        + f'  postgres: {{kind: sql, dsn: "host=127.0.0.1 port={port} dbname=test user=postgres",'
        f" table: {table}, timeout_s: 2, backoff: {{initial_s: 0.2, max_s: 1, factor: 2}}}}\n",
    )
    project_file.write_text(text, encoding="utf-8")
    return folder


def _rows(table: str) -> list[dict[str, Any]]:
    """The count rows in ``table`` (none before the sink made the table)."""
    with psycopg.connect(PG) as conn:
        try:
            found = conn.execute(
                f"select key, payload from {table} where kind = 'count'"
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return []
    return [{"key": key, **payload} for key, payload in found]


async def test_a_cut_database_link_builds_a_backlog_that_drains_with_no_gap_and_no_double(
    tmp_path: Path,
) -> None:
    table = f"hmi_outage_{uuid.uuid4().hex[:8]}"
    async with TcpProxy("127.0.0.1", 5432) as proxy:
        runtime: Runtime = open_demo(
            _project(tmp_path / "plant", proxy.port, table), clock=clock_at(8, 0)
        )
        await runtime.start()
        try:
            sync = runtime.sync
            assert sync is not None
            await wait_until(lambda: len(_rows(table)) > 3, 20, "counts in PostgreSQL")
            await proxy.cut()
            before = len(_rows(table))
            status: dict[str, Any] = {}

            async def backlog() -> int:
                status.update(await sync.status())
                return int(status["postgres"].depth)

            depths = []
            for _ in range(30):  # about 3 s of counting while the database is unreachable
                depths.append(await backlog())
                await asyncio.sleep(0.1)
            assert depths[-1] > depths[0] >= 0, depths  # the backlog grows on screen
            assert status["postgres"].last_error  # with the reason the sync view shows
            assert len(_rows(table)) == before  # nothing reached the table meanwhile
            await proxy.restore()
            plant = demo_plant(runtime)
            plant.model.stop()
            await wait_until(lambda: plant.model.filler_speed == 0.0, 15, "the line to stop")
            final = plant.model.good_count
            await wait_until(
                lambda: any(
                    r["counter"] == "good" and r["to_value"] == final for r in _rows(table)
                ),
                30,
                "the backlog drained into PostgreSQL",
            )
        finally:
            await runtime.stop()
    rows = _rows(table)
    assert len({r["key"] for r in rows}) == len(rows)  # no key twice (the table dedupes too)
    good = sorted((r for r in rows if r["counter"] == "good"), key=lambda r: r["booking"])
    chain_checked(good)  # no gap: every booking starts where the one before ended
    with psycopg.connect(PG) as conn:
        conn.execute(f"drop table {table}")
