"""The REST sink against a real HTTP receiver on loopback: body, headers, auth, answers."""

from __future__ import annotations

import base64
import logging
import socket
from pathlib import Path

import pytest

from hmi_app.core.secrets import SecretError
from hmi_app.runtime.outbox import OutboxRecord
from hmi_app.runtime.sinks.base import TransientSinkError
from hmi_app.runtime.sinks.rest import RestSink
from tests.support.http_receiver import HttpReceiver


def rec(i: int) -> OutboxRecord:
    return OutboxRecord(
        key=f"line1/good/{i:04d}",
        kind="count",
        created=1_763_776_000.25 + i,
        payload={"line": "line1", "delta": i, "quality": "good"},
        seq=i + 1,
    )


async def test_posts_a_json_batch_with_bearer_token_and_idempotency_key() -> None:
    with HttpReceiver() as rx:
        sink = RestSink("erp", rx.url, token="s3cret")
        try:
            assert await sink.send([rec(0)]) == {}
            assert await sink.send([rec(1), rec(2), rec(3)]) == {}
        finally:
            await sink.close()
        assert rx.stored_keys() == {rec(i).key for i in range(4)}
        stored = rx.records[rec(1).key]
        assert (stored.kind, stored.payload) == ("count", rec(1).payload)
        assert stored.created == "2025-11-22T01:46:41.250Z"
        first, second = rx.headers
        assert first["Authorization"] == "Bearer s3cret"
        assert first["Idempotency-Key"] == rec(0).key
        assert first["Content-Type"] == "application/json"
        assert second["Idempotency-Key"].startswith("batch-")


async def test_the_same_batch_repeats_its_idempotency_key() -> None:
    with HttpReceiver() as rx:
        sink = RestSink("erp", rx.url)
        try:
            await sink.send([rec(1), rec(2)])
            await sink.send([rec(1), rec(2)])
            await sink.send([rec(2), rec(3)])
        finally:
            await sink.close()
        keys = [h["Idempotency-Key"] for h in rx.headers]
        assert keys[0] == keys[1] != keys[2]
        assert rx.duplicates == 3  # records seen again (2 + 1), each kept once


async def test_basic_auth() -> None:
    with HttpReceiver() as rx:
        sink = RestSink("erp", rx.url, username="hmi", password="pw")
        try:
            await sink.send([rec(0)])
        finally:
            await sink.close()
        expected = "Basic " + base64.b64encode(b"hmi:pw").decode()
        assert rx.headers[0]["Authorization"] == expected


async def test_a_refused_record_in_a_batch_is_found_and_the_rest_is_stored() -> None:
    with HttpReceiver() as rx:
        rx.reject(rec(6).key)
        sink = RestSink("erp", rx.url)
        try:
            refused = await sink.send([rec(i) for i in range(10)])
        finally:
            await sink.close()
        assert list(refused) == [rec(6).key]
        assert refused[rec(6).key].startswith("HTTP 422")
        assert rx.stored_keys() == {rec(i).key for i in range(10) if i != 6}
        assert rx.requests <= 9  # halves, not one request per record


async def test_per_record_results_in_a_207_answer() -> None:
    with HttpReceiver() as rx:
        rx.reject(rec(2).key)
        rx.per_record_results()
        sink = RestSink("erp", rx.url)
        try:
            refused = await sink.send([rec(i) for i in range(5)])
        finally:
            await sink.close()
        assert list(refused) == [rec(2).key]
        assert rx.requests == 1
        assert rx.stored_keys() == {rec(i).key for i in (0, 1, 3, 4)}


@pytest.mark.parametrize("status", [500, 503, 401, 404, 429])
async def test_server_errors_and_client_side_4xx_are_transient(status: int) -> None:
    with HttpReceiver() as rx:
        rx.fail_with(status)
        sink = RestSink("erp", rx.url)
        try:
            with pytest.raises(TransientSinkError, match=f"HTTP {status}"):
                await sink.send([rec(0), rec(1)])
        finally:
            await sink.close()
        assert rx.requests == 1  # no bisecting for an answer that is not about a record


async def test_no_answer_in_time_is_transient() -> None:
    with HttpReceiver() as rx:
        rx.hang()
        sink = RestSink("erp", rx.url, timeout_s=0.3)
        try:
            with pytest.raises(TransientSinkError, match="in time"):
                await sink.send([rec(0)])
        finally:
            await sink.close()


async def test_nobody_listening_is_transient() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = RestSink("erp", f"http://127.0.0.1:{port}/records")
    try:
        with pytest.raises(TransientSinkError, match="unreachable"):
            await sink.send([rec(0)])
    finally:
        await sink.close()


async def test_from_config_reads_the_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HMI_TEST_ERP_TOKEN", "from-env")
    with HttpReceiver() as rx:
        sink = RestSink.from_config(
            "erp",
            {"url": rx.url, "token_env": "HMI_TEST_ERP_TOKEN", "headers": {"X-Plant": "north"}},
            tmp_path,
        )
        try:
            await sink.send([rec(0)])
        finally:
            await sink.close()
        assert rx.headers[0]["Authorization"] == "Bearer from-env"
        assert rx.headers[0]["X-Plant"] == "north"
    monkeypatch.delenv("HMI_TEST_ERP_TOKEN")
    with pytest.raises(SecretError, match="HMI_TEST_ERP_TOKEN"):
        RestSink.from_config(
            "erp", {"url": "https://x", "token_env": "HMI_TEST_ERP_TOKEN"}, tmp_path
        )
    with pytest.raises(ValueError, match="url"):
        RestSink.from_config("erp", {"kind": "rest"}, tmp_path)
    with pytest.raises(ValueError, match="unknown REST settings"):
        RestSink.from_config("erp", {"url": "https://x", "tokn_env": "X"}, tmp_path)
    caplog.set_level(logging.WARNING, "hmi_app.runtime.sinks.rest")
    unverified = RestSink.from_config("erp", {"url": "https://x", "verify": False}, tmp_path)
    await unverified.close()
    assert any("NOT verified" in r.getMessage() for r in caplog.records)


async def test_tls_is_verified_by_default(tmp_path: Path) -> None:
    # a plain-HTTP listener spoken to with https: the handshake fails -> transient, not accepted
    with HttpReceiver() as rx:
        sink = RestSink("erp", rx.url.replace("http://", "https://"))
        try:
            with pytest.raises(TransientSinkError):
                await sink.send([rec(0)])
        finally:
            await sink.close()
        assert rx.stored_keys() == set()
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate")
    with pytest.raises(ValueError, match="CA bundle"):
        RestSink.from_config("erp", {"url": "https://x", "verify": "ca.pem"}, tmp_path)


async def test_from_config_takes_the_project_models_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # what a validated ``kind: rest`` target dumps, less the sender's keys: unset ones are None
    monkeypatch.setenv("HMI_TEST_ERP_PASSWORD", "pw")
    with HttpReceiver() as rx:
        settings = {
            "kind": "rest",
            "url": rx.url,
            "timeout_s": 5.0,
            "token_env": None,
            "token_keyring": None,
            "username": "hmi",
            "password_env": "HMI_TEST_ERP_PASSWORD",
            "password_keyring": None,
            "verify": True,
            "headers": {},
        }
        sink = RestSink.from_config("erp", settings, tmp_path)
        try:
            assert await sink.send([rec(0)]) == {}
        finally:
            await sink.close()
        assert rx.headers[0]["Authorization"] == "Basic " + base64.b64encode(b"hmi:pw").decode()
