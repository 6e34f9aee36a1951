"""Sync targets by kind: the project's ``sync_targets`` entries become sinks here.

``create_sink(name, config, project_folder)`` picks the class for ``config["kind"]`` and lets it
check the rest of the settings (a pydantic model per kind; unknown keys are errors). The keys the
outbox's sender reads (``enabled``, ``batch_size``, ``max_tries``, ``backoff``) are left out
first, so a target's validated project settings can be passed as they are. Anything wrong is a
``ValueError`` that names the target, so the project loader can show it as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from hmi_app.runtime.sinks.base import Sink, TransientSinkError
from hmi_app.runtime.sinks.file import FileSink
from hmi_app.runtime.sinks.mqtt import MqttSink
from hmi_app.runtime.sinks.rest import RestSink
from hmi_app.runtime.sinks.sql import SqlSink

__all__ = ["SENDER_KEYS", "SINK_KINDS", "Sink", "SinkClass", "TransientSinkError", "create_sink"]


class SinkClass(Protocol):
    """A sink class: builds a sink from its project settings."""

    def from_config(self, name: str, config: dict[str, Any], project_folder: Path) -> Sink: ...


SINK_KINDS: Mapping[str, SinkClass] = {
    "file": FileSink,
    "rest": RestSink,
    "sql": SqlSink,
    "mqtt": MqttSink,
}


# Settings of a target that belong to the outbox's sender (how often, how much), not to the sink.
SENDER_KEYS = frozenset({"enabled", "batch_size", "max_tries", "backoff"})


def create_sink(name: str, config: Mapping[str, Any], project_folder: Path) -> Sink:
    """The sink for sync target ``name``; ValueError naming the target if its settings are wrong."""
    kind = config.get("kind")
    if not isinstance(kind, str) or kind not in SINK_KINDS:
        known = ", ".join(sorted(SINK_KINDS))
        raise ValueError(f"sync target {name!r}: kind {kind!r} is not one of {known}")
    settings = {k: v for k, v in config.items() if k not in SENDER_KEYS}
    try:
        return SINK_KINDS[kind].from_config(name, settings, project_folder)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'settings'}: {_message(error)}"
            for error in exc.errors()
        )
        raise ValueError(f"sync target {name!r} ({kind}): {problems}") from None


def _message(error: Any) -> str:
    if error.get("type") == "extra_forbidden":
        return "unknown setting"
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")
