"""The registry turns a project's ``sync_targets`` entries into sinks, naming what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from hmi_app.runtime.sinks import SINK_KINDS, create_sink
from hmi_app.runtime.sinks.file import FileSink
from hmi_app.runtime.sinks.mqtt import MqttSink
from hmi_app.runtime.sinks.rest import RestSink
from hmi_app.runtime.sinks.sql import SqlSink


def test_every_kind_of_the_issue_is_registered() -> None:
    assert dict(SINK_KINDS) == {
        "file": FileSink,
        "rest": RestSink,
        "sql": SqlSink,
        "mqtt": MqttSink,
    }


@pytest.mark.parametrize("kind", [None, "ftp", 3])
def test_an_unknown_kind_is_named(kind: object) -> None:
    with pytest.raises(ValueError, match=r"sync target 'x': kind .* is not one of file, mqtt"):
        create_sink("x", {"kind": kind}, Path("."))


async def test_the_sender_settings_of_a_target_are_not_the_sinks_business(tmp_path: Path) -> None:
    """What the project model validates for a target can be passed as it is."""
    settings = {
        "kind": "file",
        "folder": "drop",
        "formats": ["jsonl"],
        "enabled": True,
        "batch_size": 500,
        "max_tries": 5,
        "backoff": {"initial_s": 1.0, "max_s": 60.0, "factor": 2.0},
        "timeout_s": 10.0,
    }
    sink = create_sink("erp", settings, tmp_path)
    try:
        assert isinstance(sink, FileSink)
        assert sink.folder == tmp_path / "drop"
        assert (sink.csv, sink.jsonl) == (False, True)
    finally:
        await sink.close()


async def test_a_file_drop_without_a_folder_writes_under_sync(tmp_path: Path) -> None:
    sink = create_sink("erp", {"kind": "file"}, tmp_path)
    try:
        assert isinstance(sink, FileSink)
        assert sink.folder == tmp_path / "sync" / "erp"
    finally:
        await sink.close()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"formats": []}, "formats: name csv, jsonl or both"),
        ({"formats": ["csv", "csv"]}, "formats: name csv, jsonl or both"),
        ({"formats": ["xlsx"]}, "formats.0: Input should be 'csv' or 'jsonl'"),
        ({"path": "x"}, "path: unknown setting"),
    ],
)
def test_bad_file_settings_are_named(config: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        create_sink("erp", {"kind": "file", **config}, Path("."))
    assert str(caught.value).startswith("sync target 'erp' (file): ")


PROJECT_TARGETS: dict[str, dict[str, object]] = {
    "drop": {"kind": "file", "folder": "drop", "formats": ["csv"]},
    "erp": {"kind": "rest", "url": "https://erp.example.com/api/production"},
    "mes": {
        "kind": "sql",
        "dsn": "host=127.0.0.1 dbname=mes user=hmi",
        "password_env": "MES_PASSWORD",
        "table": "plant.production",
        "batch_size": 500,
    },
    "uns": {
        "kind": "mqtt",
        "host": "127.0.0.1",
        "topic_root": "acme/dortmund/bottling",
        "username": "hmi",
        "password_keyring": "hmi-app/mqtt",
        "qos": 1,
    },
}


@pytest.mark.parametrize("name", sorted(PROJECT_TARGETS))
async def test_what_the_project_model_accepts_builds_a_sink_as_dumped(
    name: str, tmp_path: Path
) -> None:
    """The project model (core) and the sinks (runtime) agree on every key of every kind."""
    from pydantic import TypeAdapter

    from hmi_app.core.project.sync_targets import SyncTarget

    target = TypeAdapter(SyncTarget).validate_python(PROJECT_TARGETS[name])
    settings = target.settings()
    assert settings["kind"] == PROJECT_TARGETS[name]["kind"]
    sink = create_sink(name, settings, tmp_path)  # secrets are looked up when sending
    try:
        assert sink.name == name
        assert isinstance(sink, SINK_KINDS[str(settings["kind"])])
    finally:
        await sink.close()
