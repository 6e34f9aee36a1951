"""PostgreSQL target: rows in a table, one per record, deduplicated by the database on the key.

The Ignition "transaction group" for people who want rows: each batch is one transaction of one
``INSERT ... SELECT FROM unnest(...) ON CONFLICT (key) DO NOTHING`` statement (one round trip for
the whole batch), so a batch the outbox sends again after a crash or a lost confirmation adds
nothing. With ``create_table: true`` the table is created when missing::

    key text primary key, kind text, created timestamptz, payload jsonb,
    received timestamptz default now()

A lost, refused or timed-out connection raises ``TransientSinkError`` and the next batch opens a
new connection. When the database refuses the batch for its data (a constraint, a value the
column type rejects), the batch is tried again one record at a time inside the same transaction
(a savepoint each), so the records it accepts go in and the ones it refuses are reported as
rejected for good. Every await has a timeout (``timeout_s``); when a statement times out, psycopg
first asks the server to cancel it (so no stuck transaction keeps its locks) and gives that up to
10 s before it closes the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import psycopg
from psycopg import sql
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hmi_app.core import secrets
from hmi_app.core.deadlines import within
from hmi_app.runtime.outbox import OutboxRecord
from hmi_app.runtime.sinks.base import TransientSinkError, sink_password

__all__ = ["SqlSink", "SqlSinkConfig"]

T = TypeVar("T")

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_DATA_ERRORS = (psycopg.errors.IntegrityError, psycopg.errors.DataError)


class SqlSinkConfig(BaseModel):
    """``sync_targets: {name: {kind: sql, ...}}`` settings of a PostgreSQL target."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["sql"] = "sql"
    dsn: str = Field(
        description="libpq connection string or URI without the password, e.g."
        " 'host=127.0.0.1 port=5432 dbname=mes user=hmi'"
    )
    password_env: str | None = None
    password_keyring: str | None = None
    table: str = Field(default="hmi_production", description="table name, optionally schema.table")
    create_table: bool = True
    timeout_s: float = Field(default=10.0, gt=0, le=600, description="connect and per statement")

    @field_validator("table")
    @classmethod
    def _check_table(cls, value: str) -> str:
        parts = value.split(".")
        if len(parts) > 2 or not all(_IDENT.fullmatch(part) for part in parts):
            raise ValueError(
                f"{value!r} is not a table name: letters, digits and _ (not first), at most"
                " 63 characters, optionally schema.table"
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> SqlSinkConfig:
        if self.password_env is not None and self.password_keyring is not None:
            raise ValueError("give password_env or password_keyring, not both")
        try:
            params = psycopg.conninfo.conninfo_to_dict(self.dsn)
        except psycopg.ProgrammingError as exc:
            raise ValueError(f"dsn is not a libpq connection string: {exc}") from None
        if "password" in params:
            raise ValueError(
                "the dsn must not hold the password: use password_env or password_keyring"
            )
        if self.password_env is not None:
            secrets.check_env_name(self.password_env)
        if self.password_keyring is not None:
            secrets.split_keyring_ref(self.password_keyring)
        return self


class SqlSink:
    """Inserts batches of outbox records into a PostgreSQL table (see module doc)."""

    def __init__(self, name: str, config: SqlSinkConfig) -> None:
        self.name = name
        self.config = config
        self._table = sql.Identifier(*config.table.split("."))
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._table_ready = False
        self._lock = asyncio.Lock()
        self._insert = sql.SQL(
            "INSERT INTO {table} (key, kind, created, payload)"
            " SELECT k, n, c, p::jsonb"
            " FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::text[]) AS u(k, n, c, p)"
            " ON CONFLICT (key) DO NOTHING"
        ).format(table=self._table)
        self._insert_one = sql.SQL(
            "INSERT INTO {table} (key, kind, created, payload) VALUES (%s, %s, %s, %s::jsonb)"
            " ON CONFLICT (key) DO NOTHING"
        ).format(table=self._table)

    @classmethod
    def from_config(cls, name: str, config: dict[str, Any], project_folder: Path) -> SqlSink:
        """A SQL sink from its project settings (the project folder is not used)."""
        return cls(name, SqlSinkConfig.model_validate(config))

    async def send(self, records: Sequence[OutboxRecord]) -> dict[str, str]:
        """Insert the batch in one transaction; ``{key: reason}`` for rows the table refused."""
        if not records:
            return {}
        rejected: dict[str, str] = {}
        rows: list[tuple[str, str, datetime, str]] = []
        for record in records:
            try:
                rows.append(_row(record))
            except (TypeError, ValueError) as exc:
                rejected[record.key] = f"payload is not JSON: {exc}"
        async with self._lock:
            conn = await self._connection()
            try:
                rejected.update(await self._insert_rows(conn, rows))
            except asyncio.CancelledError:
                # stopped mid-statement: the connection's state is unknown, so close it now
                # (synchronously: no await is possible while being cancelled)
                self._conn = None
                conn.pgconn.finish()
                raise
            except (psycopg.OperationalError, psycopg.InterfaceError, TimeoutError) as exc:
                await self._drop_connection()
                raise TransientSinkError(self._describe(exc)) from exc
            except psycopg.Error as exc:
                # e.g. the table is missing or has other columns: the configuration or the
                # database must change, not the records; keep them and say why
                await self._drop_connection()
                raise TransientSinkError(self._describe(exc)) from exc
        return rejected

    async def close(self) -> None:
        """Close the connection."""
        async with self._lock:
            await self._drop_connection()

    # --- internals -----------------------------------------------------------------------------

    def _describe(self, exc: BaseException) -> str:
        reason = str(exc).strip() or type(exc).__name__
        if isinstance(exc, TimeoutError):
            reason = f"no answer within {self.config.timeout_s:g} s"
        return f"PostgreSQL table {self.config.table}: {reason}"

    async def _bounded(self, awaitable: Awaitable[T]) -> T:
        return await within(awaitable, self.config.timeout_s)

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        kwargs: dict[str, Any] = {
            "autocommit": False,
            "connect_timeout": max(1, round(self.config.timeout_s)),
        }
        try:
            password = await self._password()
            if password is not None:
                kwargs["password"] = password
            conn = await within(
                psycopg.AsyncConnection.connect(self.config.dsn, **kwargs),
                self.config.timeout_s + 1,
            )
        except secrets.SecretError as exc:
            raise TransientSinkError(f"PostgreSQL target {self.name!r}: {exc}") from None
        except (psycopg.Error, OSError, TimeoutError) as exc:
            if isinstance(exc, TimeoutError):
                reason = f"no connection within {self.config.timeout_s:g} s"
            else:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise TransientSinkError(f"cannot connect to PostgreSQL: {reason}") from exc
        self._conn = conn
        if self.config.create_table and not self._table_ready:
            try:
                await self._create_table(conn)
            except (psycopg.Error, TimeoutError) as exc:
                await self._drop_connection()
                raise TransientSinkError(
                    f"cannot create table {self.config.table}: {self._describe(exc)}"
                ) from exc
            self._table_ready = True
        return conn

    async def _password(self) -> str | None:
        cfg = self.config
        return await sink_password(cfg.password_env, cfg.password_keyring, cfg.timeout_s)

    async def _create_table(self, conn: psycopg.AsyncConnection[Any]) -> None:
        parts = self.config.table.split(".")
        statements = []
        if len(parts) == 2:
            statements.append(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(parts[0]))
            )
        statements.append(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (key text PRIMARY KEY, kind text NOT NULL,"
                " created timestamptz NOT NULL, payload jsonb NOT NULL,"
                " received timestamptz NOT NULL DEFAULT now())"
            ).format(self._table)
        )
        try:
            async with conn.cursor() as cur:
                for statement in statements:
                    await self._bounded(cur.execute(statement))
            await self._bounded(conn.commit())
        except psycopg.errors.UniqueViolation:
            # two targets creating the same table at once: the other one won, which is fine
            await self._bounded(conn.rollback())

    async def _insert_rows(
        self, conn: psycopg.AsyncConnection[Any], rows: list[tuple[str, str, datetime, str]]
    ) -> dict[str, str]:
        if not rows:
            return {}
        columns = list(zip(*rows, strict=True))
        try:
            async with conn.cursor() as cur:
                await self._bounded(cur.execute(self._insert, [list(c) for c in columns]))
            await self._bounded(conn.commit())
            return {}
        except _DATA_ERRORS:
            await self._bounded(conn.rollback())
        return await self._insert_singly(conn, rows)

    async def _insert_singly(
        self, conn: psycopg.AsyncConnection[Any], rows: list[tuple[str, str, datetime, str]]
    ) -> dict[str, str]:
        """One savepoint per row: the good rows go in, the refused ones are named."""
        rejected: dict[str, str] = {}
        async with conn.cursor() as cur:
            for row in rows:
                try:
                    await self._bounded(cur.execute("SAVEPOINT hmi_row"))
                    await self._bounded(cur.execute(self._insert_one, row))
                    await self._bounded(cur.execute("RELEASE SAVEPOINT hmi_row"))
                except _DATA_ERRORS as exc:
                    await self._bounded(cur.execute("ROLLBACK TO SAVEPOINT hmi_row"))
                    diag = exc.diag
                    what = diag.constraint_name or diag.sqlstate or type(exc).__name__
                    detail = (diag.message_primary or str(exc)).strip()
                    rejected[row[0]] = f"refused by {self.config.table} ({what}): {detail}"
        await self._bounded(conn.commit())
        return rejected

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None or conn.closed:
            return
        with contextlib.suppress(psycopg.Error, OSError, TimeoutError):
            await within(conn.close(), 5.0)


def _row(record: OutboxRecord) -> tuple[str, str, datetime, str]:
    payload = json.dumps(record.payload, ensure_ascii=False, allow_nan=False)
    return (record.key, record.kind, datetime.fromtimestamp(record.created, UTC), payload)
