"""Schema of the ``sync_targets:`` section of ``project.yaml``: the receivers of the counts.

One model per ``kind`` (file drop, REST, PostgreSQL, MQTT), told apart by ``kind``; unknown keys
are errors for each kind, and secrets are only referenced (``password_env`` /
``password_keyring``, ``token_env`` / ``token_keyring``), never written in the project.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import (
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from hmi_app.core.project.production_model import StrictModel, resolve_data_path
from hmi_app.core.secrets import check_env_name, split_keyring_ref


class Backoff(StrictModel):
    """Waits between tries of a batch: ``initial_s``, times ``factor`` each try, up to ``max_s``."""

    initial_s: float = Field(default=1.0, gt=0, le=3600)
    max_s: float = Field(default=60.0, gt=0, le=86_400)
    factor: float = Field(default=2.0, ge=1, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> Backoff:
        if self.max_s < self.initial_s:
            raise ValueError(f"max_s {self.max_s} is below initial_s {self.initial_s}")
        return self


_LITERAL_SECRET = (
    "a {what} is never written in the project: put it in an environment variable and name it"
    " with {key}_env (or store it in the OS keyring and name the entry with {key}_keyring)"
)


class _Target(StrictModel):
    """What every sync target has."""

    enabled: bool = True
    batch_size: int = Field(default=100, ge=1, le=10_000)
    max_tries: int = Field(
        default=5, ge=1, le=1000, description="tries of a rejected record before quarantine"
    )
    backoff: Backoff = Field(default_factory=Backoff)
    timeout_s: float = Field(default=10.0, gt=0, le=600)
    # Present only to name the mistake on its own line; a value here is always an error.
    password: Any = Field(default=None, exclude=True, repr=False)
    token: Any = Field(default=None, exclude=True, repr=False)

    @field_validator("password")
    @classmethod
    def _no_password(cls, value: Any) -> Any:
        raise ValueError(_LITERAL_SECRET.format(what="password", key="password"))

    @field_validator("token")
    @classmethod
    def _no_token(cls, value: Any) -> Any:
        raise ValueError(_LITERAL_SECRET.format(what="token", key="token"))

    def settings(self) -> dict[str, Any]:
        """The validated keys as a plain dict (what a sink's ``from_config`` takes)."""
        return self.model_dump(mode="json")


class _PasswordRef(_Target):
    """A target that may take a password from the environment or the keyring."""

    password_env: str | None = None
    password_keyring: str | None = None

    @field_validator("password_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        return None if value is None else check_env_name(value)

    @field_validator("password_keyring")
    @classmethod
    def _keyring(cls, value: str | None) -> str | None:
        if value is not None:
            split_keyring_ref(value)
        return value

    @model_validator(mode="after")
    def _one_password(self) -> _PasswordRef:
        if self.password_env is not None and self.password_keyring is not None:
            raise ValueError("name the password once: password_env or password_keyring")
        return self


FileFormat = Literal["csv", "jsonl"]
FILE_FORMATS: tuple[FileFormat, ...] = ("csv", "jsonl")


class FileTarget(_Target):
    """File drop: CSV and JSON Lines per shift, written atomically into ``folder``."""

    kind: Literal["file"]
    folder: str = Field(
        default="",
        description="absolute, or relative to the project's data folder; default sync/<name>",
    )
    formats: list[FileFormat] = Field(default_factory=lambda: list(FILE_FORMATS))

    @field_validator("formats")
    @classmethod
    def _formats(cls, value: list[FileFormat]) -> list[FileFormat]:
        if not value or len(set(value)) != len(value):
            raise ValueError("name csv, jsonl or both, once each")
        return value

    def folder_path(self, data_folder: Path, name: str) -> Path:
        """Where target ``name`` drops files: ``folder`` (or sync/<name>) in ``data_folder``."""
        return resolve_data_path(self.folder or f"sync/{name}", data_folder)


class RestTarget(_PasswordRef):
    """REST: JSON batches POSTed to ``url``; a bearer token or basic auth, both by reference."""

    kind: Literal["rest"]
    url: str
    token_env: str | None = None
    token_keyring: str | None = None
    username: str | None = None
    verify: bool | str = Field(
        default=True,
        description="check the server's TLS certificate (true), not (false), or against a CA "
        "bundle file (a path, relative to the project folder)",
    )
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers")

    @field_validator("verify")
    @classmethod
    def _verify(cls, value: bool | str) -> bool | str:
        if isinstance(value, str) and not value.strip():
            raise ValueError("verify is true, false or the path of a CA bundle file")
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for header in value:
            if header.lower() in ("authorization", "proxy-authorization", "cookie"):
                raise ValueError(
                    f"header {header!r} carries a secret: use token_env / token_keyring "
                    "(or username with password_env) instead"
                )
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL")
        if parts.password is not None:
            raise ValueError(_LITERAL_SECRET.format(what="password", key="password"))
        return value

    @field_validator("token_env")
    @classmethod
    def _token_env(cls, value: str | None) -> str | None:
        return None if value is None else check_env_name(value)

    @field_validator("token_keyring")
    @classmethod
    def _token_keyring(cls, value: str | None) -> str | None:
        if value is not None:
            split_keyring_ref(value)
        return value

    @model_validator(mode="after")
    def _auth(self) -> RestTarget:
        token = self.token_env is not None or self.token_keyring is not None
        password = self.password_env is not None or self.password_keyring is not None
        if self.token_env is not None and self.token_keyring is not None:
            raise ValueError("name the token once: token_env or token_keyring")
        if token and (password or self.username is not None):
            raise ValueError("use a token or a user name and password, not both")
        if password and self.username is None:
            raise ValueError("basic auth needs a username with the password")
        if self.username is not None and not password:
            raise ValueError(f"user {self.username!r} needs password_env or password_keyring")
        return self


class SqlTarget(_PasswordRef):
    """PostgreSQL: rows inserted into ``table`` with ``ON CONFLICT (key) DO NOTHING``."""

    kind: Literal["sql"]
    dsn: str = Field(description="libpq connection string or URI, without the password")
    table: str = "hmi_production"
    create_table: bool = True

    @field_validator("dsn")
    @classmethod
    def _dsn(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name the database (e.g. 'host=127.0.0.1 dbname=mes user=hmi')")
        if _dsn_has_password(value):
            raise ValueError(
                "the dsn holds a password: remove it and name an environment variable with"
                " password_env (e.g. PGPASSWORD) or a keyring entry with password_keyring"
            )
        return value

    @field_validator("table")
    @classmethod
    def _table(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$", value):
            raise ValueError(f"{value!r} is not a table name: letters, digits and _ (schema.table)")
        return value


def _dsn_has_password(dsn: str) -> bool:
    text = dsn.strip()
    if "://" in text:
        parts = urlsplit(text)
        return parts.password is not None or "password" in parse_qs(parts.query)
    return re.search(r"(^|\s)password\s*=", text) is not None


class MqttTarget(_PasswordRef):
    """MQTT: JSON published under ``topic_root`` (unified namespace), QoS 1 by default."""

    kind: Literal["mqtt"]
    host: str
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    tls: bool = False
    topic_root: str = Field(
        description="unified-namespace prefix enterprise/site/area; the line follows it"
    )
    qos: Literal[0, 1, 2] = 1
    client_id: str | None = None

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not value.strip() or "/" in value:
            raise ValueError(f"{value!r} is not a host name or address")
        return value

    @field_validator("topic_root")
    @classmethod
    def _topic(cls, value: str) -> str:
        parts = value.split("/")
        bad = any(not part or part.startswith("$") for part in parts)
        if bad or any(c in value for c in "+#\0"):
            raise ValueError(
                f"{value!r} is not a topic root: levels joined by / with no wildcard, no empty"
                " level, none starting with $ (e.g. acme/dortmund/bottling)"
            )
        return value

    @model_validator(mode="after")
    def _auth(self) -> MqttTarget:
        password = self.password_env is not None or self.password_keyring is not None
        if password and self.username is None:
            raise ValueError("the password needs a username")
        return self


class _UnknownKind(_Target):
    """Stands in for a target whose ``kind`` is missing or unknown, to say so on its line."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        raise ValueError(f"unknown kind {value!r}: use one of {', '.join(SYNC_KINDS)}")


SYNC_KINDS = ("file", "rest", "sql", "mqtt")


def _target_tag(value: Any) -> str:
    # The tag appears in pydantic's error locations; "kind[...]" is dropped from them when
    # errors are reported (yamlio), so an error reads sync_targets.NAME.FIELD.
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return f"kind[{kind}]" if kind in SYNC_KINDS else "kind[?]"


SyncTargetConfig = FileTarget | RestTarget | SqlTarget | MqttTarget
"""A validated sync target (an unknown kind never validates)."""

SyncTarget = Annotated[
    Annotated[FileTarget, Tag("kind[file]")]
    | Annotated[RestTarget, Tag("kind[rest]")]
    | Annotated[SqlTarget, Tag("kind[sql]")]
    | Annotated[MqttTarget, Tag("kind[mqtt]")]
    | Annotated[_UnknownKind, Tag("kind[?]")],
    Discriminator(_target_tag),
]
"""One entry of ``sync_targets``: validated by the model of its ``kind``."""
