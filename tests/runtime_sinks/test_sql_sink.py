"""PostgreSQL target against the machine's real PostgreSQL (127.0.0.1:5432, database ``test``).

Each test uses a table of its own and drops it afterwards; outages go through a TCP proxy that
is cut and restored (the service itself keeps running).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from hmi_app.runtime.outbox import OutboxRecord
from hmi_app.runtime.sinks import TransientSinkError, create_sink
from hmi_app.runtime.sinks.sql import SqlSink, SqlSinkConfig
from tests.support.tcp_proxy import TcpProxy

PG_HOST, PG_PORT = "127.0.0.1", 5432
DSN = f"host={PG_HOST} port={PG_PORT} dbname=test user=postgres"
T0 = 1_790_000_000.0


def record(i: int, **payload: Any) -> OutboxRecord:
    return OutboxRecord(
        f"line1/good/{i}", "count", T0 + i, {"line": "line1", "delta": i % 5, **payload}
    )


async def rows(table: str) -> list[tuple[Any, ...]]:
    ident = sql.Identifier(*table.split("."))
    async with await psycopg.AsyncConnection.connect(DSN) as conn:
        cur = await conn.execute(
            sql.SQL("SELECT key, kind, created, payload FROM {} ORDER BY created").format(ident)
        )
        return await cur.fetchall()


@pytest.fixture
async def table() -> AsyncIterator[str]:
    name = f"hmi_test_{uuid.uuid4().hex[:12]}"
    yield name
    async with await psycopg.AsyncConnection.connect(DSN, autocommit=True) as conn:
        await conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))


async def test_a_batch_is_inserted_and_sent_again_adds_nothing(table: str) -> None:
    sink = create_sink("mes", {"kind": "sql", "dsn": DSN, "table": table}, Path("."))
    batch = [record(i) for i in range(50)]
    try:
        assert await sink.send(batch) == {}
        assert await sink.send(batch[40:]) == {}  # a lost confirmation: the same records again
        assert await sink.send([*batch[45:], record(50)]) == {}
    finally:
        await sink.close()
    got = await rows(table)
    assert [r[0] for r in got] == [f"line1/good/{i}" for i in range(51)]
    key, kind, created, payload = got[7]
    assert (key, kind, created.timestamp(), payload) == (
        "line1/good/7",
        "count",
        T0 + 7,
        {"line": "line1", "delta": 2},
    )


async def test_the_table_gets_the_documented_columns(table: str) -> None:
    sink = SqlSink("mes", SqlSinkConfig(dsn=DSN, table=table))
    try:
        await sink.send([record(1)])
    finally:
        await sink.close()
    async with await psycopg.AsyncConnection.connect(DSN) as conn:
        cur = await conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = %s ORDER BY ordinal_position",
            [table],
        )
        columns = await cur.fetchall()
        cur = await conn.execute(
            sql.SQL("SELECT received > now() - interval '1 minute' FROM {}").format(
                sql.Identifier(table)
            )
        )
        fresh = await cur.fetchone()
    assert columns == [
        ("key", "text"),
        ("kind", "text"),
        ("created", "timestamp with time zone"),
        ("payload", "jsonb"),
        ("received", "timestamp with time zone"),
    ]
    assert fresh == (True,)


async def test_a_schema_qualified_table_is_created_in_its_schema() -> None:
    schema = f"hmi_test_{uuid.uuid4().hex[:12]}"
    sink = SqlSink("mes", SqlSinkConfig(dsn=DSN, table=f"{schema}.production"))
    try:
        assert await sink.send([record(1), record(2)]) == {}
        assert [r[0] for r in await rows(f"{schema}.production")] == [
            "line1/good/1",
            "line1/good/2",
        ]
    finally:
        await sink.close()
        async with await psycopg.AsyncConnection.connect(DSN, autocommit=True) as conn:
            await conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )


async def test_without_create_table_a_missing_table_is_transient_and_named(table: str) -> None:
    sink = SqlSink("mes", SqlSinkConfig(dsn=DSN, table=table, create_table=False))
    try:
        with pytest.raises(TransientSinkError, match=f'relation "{table}" does not exist'):
            await sink.send([record(1)])
    finally:
        await sink.close()


async def test_records_the_table_refuses_are_named_and_the_others_inserted(table: str) -> None:
    async with await psycopg.AsyncConnection.connect(DSN, autocommit=True) as conn:
        await conn.execute(
            sql.SQL(
                "CREATE TABLE {} (key text PRIMARY KEY, kind text NOT NULL, created timestamptz"
                " NOT NULL, payload jsonb NOT NULL CONSTRAINT delta_not_negative"
                " CHECK ((payload->>'delta')::int >= 0), received timestamptz DEFAULT now())"
            ).format(sql.Identifier(table))
        )
    sink = SqlSink("mes", SqlSinkConfig(dsn=DSN, table=table))
    batch = [record(i) for i in range(10)]
    batch[3] = record(3, delta=-4)
    batch[7] = OutboxRecord("nul", "count", T0 + 7, {"note": "a\x00b", "delta": 1})
    try:
        rejected = await sink.send(batch)
        assert await sink.send([record(10)]) == {}  # the connection is still good
    finally:
        await sink.close()
    assert sorted(rejected) == ["line1/good/3", "nul"]
    assert "delta_not_negative" in rejected["line1/good/3"]
    assert "(22P05): unsupported Unicode escape sequence" in rejected["nul"]
    assert [r[0] for r in await rows(table)] == [
        f"line1/good/{i}" for i in (0, 1, 2, 4, 5, 6, 8, 9, 10)
    ]


async def test_an_outage_is_transient_and_the_batch_goes_once_it_is_back(table: str) -> None:
    async with TcpProxy(PG_HOST, PG_PORT) as proxy:
        dsn = f"host=127.0.0.1 port={proxy.port} dbname=test user=postgres"
        sink = SqlSink("mes", SqlSinkConfig(dsn=dsn, table=table, timeout_s=3))
        try:
            assert await sink.send([record(i) for i in range(5)]) == {}
            await proxy.cut()  # the open connection dies and new ones are refused
            batch = [record(i) for i in range(3, 10)]
            with pytest.raises(TransientSinkError):
                await sink.send(batch)
            with pytest.raises(TransientSinkError, match="cannot connect to PostgreSQL"):
                await sink.send(batch)
            await proxy.restore()
            assert await sink.send(batch) == {}
        finally:
            await sink.close()
        assert proxy.accepted == 2  # one connection before the cut, one after
    assert [r[0] for r in await rows(table)] == [f"line1/good/{i}" for i in range(10)]


async def test_a_password_is_taken_from_the_environment(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trust auth ignores the password, so this shows it is read (and a missing one named)."""
    config = SqlSinkConfig(dsn=DSN, table=table, password_env="HMI_TEST_PG_PASSWORD")
    sink = SqlSink("mes", config)
    try:
        monkeypatch.delenv("HMI_TEST_PG_PASSWORD", raising=False)
        with pytest.raises(TransientSinkError, match="HMI_TEST_PG_PASSWORD is not set"):
            await sink.send([record(1)])
        monkeypatch.setenv("HMI_TEST_PG_PASSWORD", "s3cret")
        assert await sink.send([record(1)]) == {}
    finally:
        await sink.close()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"table": "a.b.c"}, "'a.b.c' is not a table name"),
        ({"table": "x; drop table y"}, "is not a table name"),
        ({"dsn": DSN + " password=x"}, "must not hold the password"),
        ({"dsn": "postgresql://u:pw@h/db"}, "must not hold the password"),
        ({"schema": "x"}, "schema: unknown setting"),
        ({"password_env": "A", "password_keyring": "s/u"}, "not both"),
    ],
)
def test_bad_settings_are_named(config: dict[str, Any], message: str) -> None:
    settings = {"kind": "sql", "dsn": DSN, "table": "t", **config}
    with pytest.raises(ValueError, match=message) as caught:
        create_sink("mes", settings, Path("."))
    assert str(caught.value).startswith("sync target 'mes' (sql): ")
    assert "pw" not in json.dumps(str(caught.value)).replace("password", "")


async def test_a_hung_server_times_out_as_transient_and_a_new_connection_follows(
    table: str,
) -> None:
    async with TcpProxy(PG_HOST, PG_PORT) as proxy:
        dsn = f"host=127.0.0.1 port={proxy.port} dbname=test user=postgres"
        sink = SqlSink("mes", SqlSinkConfig(dsn=dsn, table=table, timeout_s=1))
        try:
            assert await sink.send([record(0)]) == {}
            proxy.hold()  # the connection stays open, nothing comes back
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(TransientSinkError, match="no answer within 1 s"):
                await sink.send([record(1)])
            # psycopg first asks the server to cancel the statement (up to 5 s, on a connection
            # of its own) and waits up to 5 s more for it to end, then closes: bounded
            assert loop.time() - started < 1 + 10 + 1
            await proxy.restore()
            assert await sink.send([record(1), record(2)]) == {}
        finally:
            await sink.close()
        assert proxy.accepted == 3  # the first connection, psycopg's cancel request, the new one
    assert [r[0] for r in await rows(table)] == [f"line1/good/{i}" for i in range(3)]
