"""Paths in driver settings are relative to the project folder, not to where the app started."""

from __future__ import annotations

from pathlib import Path

from hmi_app.core.project.model import ConnectionConfig
from hmi_app.runtime.runtime import driver_settings


def test_relative_paths_resolve_inside_the_project(tmp_path: Path) -> None:
    connection = ConnectionConfig.model_validate(
        {
            "driver": "opcua",
            "url": "opc.tcp://x:4840",
            "pki_dir": "pki",
            "certificate_file": "/etc/ssl/me.der",
            "timeout_ms": 500,
        }
    )
    settings = driver_settings(connection, tmp_path)
    assert settings["pki_dir"] == str(tmp_path / "pki")
    assert settings["certificate_file"] == "/etc/ssl/me.der"
    assert settings["url"] == "opc.tcp://x:4840" and settings["timeout_ms"] == 500
    assert "driver" not in settings
