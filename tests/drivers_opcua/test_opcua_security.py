"""Secure connections: certificates in the PKI folder, untrusted servers, policies and logins."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from asyncua import ua
from pydantic import ValidationError

from drivers.base import LinkState
from drivers.opcua import trust_rejected_certificate
from drivers.opcua.driver import OpcUaDriver
from drivers.opcua.settings import OpcUaSettings
from hmi_app.core.datatypes import DataType

from .conftest import PASSWORDS, CertPair, MakeDriver, PlantServer, Recorder, point

ENV = "HMI_TEST_OPCUA_PASSWORD"


def trusted_pki(tmp_path: Path, server_cert: CertPair) -> Path:
    pki = tmp_path / "pki"
    (pki / "trusted").mkdir(parents=True)
    shutil.copy(server_cert.cert_path, pki / "trusted" / "plant.der")
    return pki


async def test_untrusted_server_is_refused_with_a_clear_message_then_trusted(
    make_driver: MakeDriver,
    recorder: Recorder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV, PASSWORDS["operator"])
    pki = tmp_path / "pki"
    driver = await make_driver(
        [point("speed", "ns=2;s=Line1.Speed")],
        security="sign_and_encrypt",
        pki_dir=str(pki),
        user="operator",
        password_env=ENV,
    )
    await recorder.wait_for(
        lambda: recorder.bad("speed") and recorder.links[-1][0] is LinkState.DISCONNECTED
    )
    rejected = list((pki / "rejected").iterdir())
    assert len(rejected) == 1 and rejected[0].name.startswith("test-plant-server [")
    reason = recorder.latest["speed"].reason
    assert reason.startswith(
        "config error: server certificate of test-plant-server (Test Plant Server at opc.tcp://"
    )
    assert (
        f"is not trusted: it was saved to {rejected[0]}; move it to {pki / 'trusted'}/"
        " (or use Trust in the tag browser) to trust it"
    ) in reason
    assert reason in recorder.links[-1][1]
    assert (pki / "own" / "cert.der").is_file() and (pki / "own" / "private" / "key.pem").is_file()
    assert (pki / "own" / "private" / "key.pem").stat().st_mode & 0o077 == 0

    trust_rejected_certificate(pki, rejected[0].name)
    await recorder.wait_for(lambda: recorder.good("speed"), within=5.0)
    assert not list((pki / "rejected").iterdir())
    conn = driver._conn
    assert conn is not None
    assert conn.client.security_policy.Mode == ua.MessageSecurityMode.SignAndEncrypt
    assert conn.client.security_policy.URI.endswith("#Basic256Sha256")


async def test_policies_and_modes(
    make_driver: MakeDriver, tmp_path: Path, certs: dict[str, CertPair]
) -> None:
    pki = trusted_pki(tmp_path, certs["server"])
    cases = [
        ("sign_and_encrypt", "Aes128_Sha256_RsaOaep"),
        ("sign_and_encrypt", "Aes256_Sha256_RsaPss"),
        ("sign", "Basic256Sha256"),
    ]
    recorders = []
    for security, policy in cases:
        rec = Recorder()
        recorders.append(rec)
        await make_driver(
            [point("speed", "ns=2;s=Line1.Speed")],
            rec=rec,
            security=security,
            policy=policy,
            pki_dir=str(pki),
        )
    for rec in recorders:
        await rec.wait_for(lambda rec=rec: rec.good("speed"))  # type: ignore[misc]
    own = (pki / "own" / "cert.der").read_bytes()
    assert own  # one application certificate, made once, shared by the connections


async def test_password_from_the_keyring_and_a_write_only_admin_may_make(
    make_driver: MakeDriver,
    recorder: Recorder,
    tmp_path: Path,
    certs: dict[str, CertPair],
    memory_keyring: dict[tuple[str, str], str],
) -> None:
    memory_keyring[("hmi-app/plant", "admin")] = PASSWORDS["admin"]
    pki = trusted_pki(tmp_path, certs["server"])
    driver = await make_driver(
        [point("adm", "ns=2;s=Line1.AdminOnly", DataType.INT32)],
        security="sign_and_encrypt",
        pki_dir=str(pki),
        user="admin",
        password_keyring="hmi-app/plant/admin",
    )
    await recorder.wait_for(lambda: recorder.good("adm"))
    await driver.write(point("adm", "ns=2;s=Line1.AdminOnly", DataType.INT32), 5)
    await recorder.wait_for(lambda: recorder.value("adm") == 5)


async def test_wrong_or_missing_password_says_so(
    make_driver: MakeDriver,
    tmp_path: Path,
    certs: dict[str, CertPair],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pki = trusted_pki(tmp_path, certs["server"])
    monkeypatch.setenv(ENV, "wrong")
    monkeypatch.delenv(ENV + "_UNSET", raising=False)
    wrong, missing = Recorder(), Recorder()
    common = {"security": "sign_and_encrypt", "pki_dir": str(pki), "user": "operator"}
    await make_driver([point("a", "ns=2;s=Line1.Speed")], rec=wrong, password_env=ENV, **common)
    await make_driver(
        [point("b", "ns=2;s=Line1.Speed")], rec=missing, password_env=ENV + "_UNSET", **common
    )
    await wrong.wait_for(lambda: wrong.bad("a"))
    await missing.wait_for(lambda: missing.bad("b"))
    assert wrong.latest["a"].reason.startswith(
        "config error: the server refused the login of operator: Bad"
    )
    assert missing.latest["b"].reason == (
        f"config error: environment variable {ENV}_UNSET is not set: set it to the password"
        " before starting hmi-app"
    )
    assert "wrong" not in wrong.latest["a"].reason + str(wrong.links)


async def test_certificate_login(
    make_driver: MakeDriver, recorder: Recorder, tmp_path: Path, certs: dict[str, CertPair]
) -> None:
    pki = trusted_pki(tmp_path, certs["server"])
    await make_driver(
        [point("speed", "ns=2;s=Line1.Speed")],
        security="sign_and_encrypt",
        pki_dir=str(pki),
        user_certificate=str(certs["user"].cert_path),
        user_private_key=str(certs["user"].key_path),
    )
    await recorder.wait_for(lambda: recorder.good("speed"))


async def test_insecure_policies_only_when_allowed(
    make_driver: MakeDriver,
    recorder: Recorder,
    plant: PlantServer,
    tmp_path: Path,
    certs: dict[str, CertPair],
) -> None:
    pki = trusted_pki(tmp_path, certs["server"])
    for policy in ("Basic128Rsa15", "Basic256"):
        with pytest.raises(ValidationError, match=f"policy {policy} is deprecated and insecure"):
            OpcUaDriver.from_settings(
                "plc", {"url": plant.url, "policy": policy, "pki_dir": str(pki)}
            )
    await make_driver(
        [point("speed", "ns=2;s=Line1.Speed")],
        security="sign_and_encrypt",
        policy="Basic256",
        allow_insecure_policies=True,
        pki_dir=str(pki),
    )
    await recorder.wait_for(lambda: recorder.bad("speed"))
    reason = recorder.latest["speed"].reason
    assert "offers no Basic256 sign_and_encrypt endpoint (it offers Aes128_Sha256_RsaOaep" in reason


def test_secure_by_default_and_settings_say_what_is_missing() -> None:
    with pytest.raises(ValidationError, match="security: sign_and_encrypt needs pki_dir"):
        OpcUaSettings(url="opc.tcp://plc:4840")
    assert (
        OpcUaSettings(url="opc.tcp://plc:4840", pki_dir="pki").effective_policy == "Basic256Sha256"
    )
    assert OpcUaSettings(url="opc.tcp://plc:4840", security="none").effective_policy is None
    bad = [
        (
            {"security": "none", "policy": "Basic256Sha256"},
            "needs security: sign or sign_and_encrypt",
        ),
        ({"security": "none", "user": "op"}, "user needs password_env"),
        ({"security": "none", "password_env": "X"}, "a password needs a user"),
        (
            {"security": "none", "user": "op", "password_env": "X", "password_keyring": "a/b"},
            "either by",
        ),
        (
            {"security": "none", "user": "op", "password_keyring": "nouser"},
            "is not a keyring entry",
        ),
        ({"security": "none", "user_certificate": "c.der"}, "needs both user_certificate"),
        ({"security": "none", "deadband_type": "percent"}, "deadband_value must be more than 0"),
        ({"security": "none", "password": "x"}, "Extra inputs are not permitted"),
        ({"security": "none", "url": "http://plc"}, "opc.tcp://host:4840"),
    ]
    for extra, message in bad:
        with pytest.raises(ValidationError, match=message):
            OpcUaSettings.model_validate({"url": "opc.tcp://plc:4840", **extra})


async def test_security_none_against_a_server_without_an_unsecured_endpoint(
    make_driver: MakeDriver, recorder: Recorder, plant: PlantServer
) -> None:
    await plant.stop()
    plant.allow_none = False
    await plant.start()
    await make_driver([point("speed", "ns=2;s=Line1.Speed")], security="none")
    await recorder.wait_for(lambda: recorder.bad("speed"))
    assert recorder.latest["speed"].reason.startswith(
        f"config error: {plant.url} offers no unsecured endpoint (it offers Aes128_Sha256_RsaOaep"
    )
    assert recorder.latest["speed"].reason.endswith("set security and pki_dir")


async def test_the_points_follow_the_cause_of_an_outage(
    make_driver: MakeDriver,
    recorder: Recorder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Untrusted first; once trusted, the wrong password is what the tags say."""
    monkeypatch.setenv(ENV, "wrong")
    pki = tmp_path / "pki"
    await make_driver(
        [point("speed", "ns=2;s=Line1.Speed")],
        security="sign_and_encrypt",
        pki_dir=str(pki),
        user="operator",
        password_env=ENV,
    )
    await recorder.wait_for(lambda: recorder.bad("speed"))
    assert "is not trusted" in recorder.latest["speed"].reason
    told = len(recorder.of("speed"))
    rejected = next((pki / "rejected").iterdir())
    trust_rejected_certificate(pki, rejected.name)
    await recorder.wait_for(lambda: "refused the login" in recorder.latest["speed"].reason)
    await asyncio.sleep(0.5)  # more attempts fail the same way: told once
    assert len(recorder.of("speed")) == told + 1
