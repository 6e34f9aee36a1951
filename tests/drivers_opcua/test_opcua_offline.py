"""What needs no server: address validation, value conversion, status mapping, the PKI folder and
secrets from the environment or the keyring."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from asyncua import ua

from drivers.base import AddressError, PointSpec
from drivers.opcua import address as addr
from drivers.opcua import codec, security
from drivers.opcua.driver import OpcUaDriver
from hmi_app.core import secrets
from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality

from .conftest import CertPair


def spec(address: str, data_type: DataType = DataType.FLOAT64, array_length: int = 0) -> PointSpec:
    return PointSpec("k", address, data_type, array_length=array_length)


DRIVER = OpcUaDriver.from_settings("plc", {"url": "opc.tcp://plc:4840", "security": "none"})


@pytest.mark.parametrize(
    ("text", "node", "index_range", "path"),
    [
        ("ns=2;s=Line1.Speed", "ns=2;s=Line1.Speed", None, ()),
        ("ns=2;i=1001", "ns=2;i=1001", None, ()),
        ("i=2258", "i=2258", None, ()),
        (
            "ns=3;g=09087e75-8e5e-499b-954f-f2a9603db28a",
            "ns=3;g=09087e75-8e5e-499b-954f-f2a9603db28a",
            None,
            (),
        ),
        ("ns=2;b=AQID", "ns=2;b=AQID", None, ()),
        ("ns=2;s=Arr[3]", "ns=2;s=Arr", "3", ()),
        ('ns=3;s="DB1"."speeds"[2:5]', 'ns=3;s="DB1"."speeds"', "2:5", ()),
        ("/Objects/2:Line1/2:Speed", None, None, ((0, "Objects"), (2, "Line1"), (2, "Speed"))),
        ("/Objects/2:Line1/2:Arr[0]", None, "0", ((0, "Objects"), (2, "Line1"), (2, "Arr"))),
    ],
)
def test_addresses_parse(
    text: str, node: str | None, index_range: str | None, path: tuple[object, ...]
) -> None:
    parsed = addr.parse(text)
    assert (parsed.node_id.to_string() if parsed.node_id is not None else None) == node
    assert parsed.index_range == index_range
    assert parsed.path == path


def test_namespace_uri_and_literal_fallback() -> None:
    parsed = addr.parse("nsu=urn:plant:line1;s=Line1.Speed")
    assert parsed.namespace_uri == "urn:plant:line1" and parsed.node_id is not None
    assert parsed.node_id.Identifier == "Line1.Speed"
    indexed = addr.parse("ns=2;s=Arr[3]")
    assert indexed.literal is not None and indexed.literal.node_id == ua.NodeId("Arr[3]", 2)


@pytest.mark.parametrize(
    ("point", "message"),
    [
        (spec(""), "the address is empty: give a node id such as ns=2;s=Line1.Speed"),
        (spec("Line1.Speed"), "'Line1.Speed' is not an OPC UA address: give a node id such as"),
        (spec("ns=x;s=A"), "'ns=x;s=A' is not an OPC UA address"),
        (spec("ns=2;i=abc"), "'ns=2;i=abc' is not a valid node id"),
        (spec("ns=2;g=not-a-guid"), "is not a valid node id"),
        (spec("nsu=urn:x"), "write a namespace URI node id as nsu=<uri>;s=<name>"),
        (spec("/Objects//2:Speed"), "empty element in the browse path"),
        (spec("ns=2;s=Arr[5:2]"), "the index range [5:2] must end after it starts"),
        (
            spec("ns=2;s=Arr[3]", array_length=4),
            "selects one element, but the tag is an array of 4",
        ),
        (spec("ns=2;s=Arr[2:5]"), "selects 4 elements: set array_length: 4"),
        (
            spec("ns=2;s=Arr[2:5]", array_length=3),
            "selects 4 elements: set array_length: 4 (it is 3)",
        ),
        (
            PointSpec("k", "ns=2;s=A", DataType.INT16, scan_ms=0),
            "the scan period must be more than 0 ms",
        ),
    ],
)
def test_validate_gives_user_facing_messages(point: PointSpec, message: str) -> None:
    with pytest.raises(AddressError) as caught:
        DRIVER.validate(point)
    assert message in str(caught.value)


def test_validate_accepts_good_points() -> None:
    for point in [spec("ns=2;s=A"), spec("ns=2;s=Arr[1:3]", array_length=3), spec("/Objects/2:A")]:
        DRIVER.validate(point)


@pytest.mark.parametrize(
    ("status", "quality", "reason"),
    [
        (ua.StatusCodes.Good, Quality.GOOD, ""),
        (
            ua.StatusCodes.UncertainLastUsableValue,
            Quality.UNCERTAIN,
            "uncertain: UncertainLastUsableValue",
        ),
        (
            ua.StatusCodes.UncertainSensorNotAccurate,
            Quality.UNCERTAIN,
            "uncertain: UncertainSensorNotAccurate",
        ),
        (ua.StatusCodes.BadOutOfRange, Quality.BAD, "device exception: BadOutOfRange"),
        (ua.StatusCodes.BadNoCommunication, Quality.BAD, "comm failure: BadNoCommunication"),
        (ua.StatusCodes.BadDeviceFailure, Quality.BAD, "comm failure: BadDeviceFailure"),
        (ua.StatusCodes.BadNodeIdUnknown, Quality.BAD, "device exception: BadNodeIdUnknown"),
        (0x81FE0000, Quality.BAD, "device exception: Bad 0x81FE0000"),
    ],
)
def test_status_codes(status: int, quality: Quality, reason: str) -> None:
    assert codec.quality_of(ua.StatusCode(status)) == (quality, reason)


def test_decode_converts_to_the_tags_type_and_refuses_what_does_not_fit() -> None:
    assert codec.decode(7, DataType.FLOAT64) == 7.0
    assert codec.decode(3.0, DataType.INT16) == 3
    assert codec.decode(1, DataType.BOOL) is True
    assert codec.decode(ua.LocalizedText("Hello"), DataType.STRING) == "Hello"
    assert codec.decode(12.5, DataType.STRING) == "12.5"
    naive = dt.datetime(2026, 1, 1, 12, 0)
    assert codec.decode(naive, DataType.DATETIME) == naive.replace(tzinfo=dt.UTC)
    assert codec.decode([1, 2], DataType.INT8, array_length=2) == (1, 2)
    for value, dtype, message in [
        (70000, DataType.INT16, "70000 does not fit a int16 tag (-32768..32767)"),
        (2.5, DataType.INT32, "2.5 is not a whole number"),
        ("abc", DataType.FLOAT64, "is not a number"),
        (None, DataType.FLOAT64, "empty (null) value"),
        (5, DataType.DATETIME, "is not a date and time"),
        ([1, 2, 3], DataType.INT16, "array of 3 values: set array_length: 3"),
    ]:
        with pytest.raises(
            codec.DecodeError, match=message.replace("(", r"\(").replace(")", r"\)")
        ):
            codec.decode(value, dtype)


def test_encode_uses_the_nodes_type_and_range() -> None:
    variant = codec.encode(300, ua.VariantType.Int16, "Int16", array=False)
    assert variant.Value == 300 and variant.VariantType is ua.VariantType.Int16
    assert codec.encode(2.0, ua.VariantType.Byte, "Byte", False).Value == 2
    assert (
        codec.encode(True, ua.VariantType.Double, "Double", False).VariantType
        is ua.VariantType.Double
    )
    assert codec.encode((1, 2), ua.VariantType.UInt32, "UInt32", True).Value == [1, 2]
    assert codec.encode(3.4e38, ua.VariantType.Float, "Float", False).Value == 3.4e38
    assert math.isnan(codec.encode(math.nan, ua.VariantType.Float, "Float", False).Value)
    for value, vtype, array, message in [
        (
            1_000_000,
            ua.VariantType.Int16,
            False,
            r"1000000 does not fit the node's type Int16 \(-32768\.\.32767\)",
        ),
        (-1, ua.VariantType.UInt64, False, "does not fit the node's type UInt64"),
        (1e39, ua.VariantType.Float, False, "does not fit the node's type Float"),
        (2, ua.VariantType.Boolean, False, "is not a boolean"),
        ("x", ua.VariantType.Int32, False, "is not a number"),
        (5, ua.VariantType.Int32, True, "write a list of values"),
        ([5], ua.VariantType.Int32, False, "not a list"),
        ("2026", ua.VariantType.DateTime, False, "is not a date and time"),
        (1, ua.VariantType.ExtensionObject, False, "cannot be written by hmi-app"),
    ]:
        with pytest.raises(codec.EncodeError, match=message):
            codec.encode(value, vtype, vtype.name, array)


# ---- PKI folder -------------------------------------------------------------------------------
def test_own_certificate_is_made_once_and_kept(tmp_path: Path) -> None:
    first = security.ensure_own_certificate(tmp_path, "urn:host:hmi-app")
    again = security.ensure_own_certificate(tmp_path, "urn:host:hmi-app")
    assert first == again
    other = security.ensure_own_certificate(tmp_path, "urn:other:hmi-app")  # renamed host
    assert other.cert_der != first.cert_der


def test_trust_store(tmp_path: Path, certs: dict[str, CertPair]) -> None:
    der = certs["server"].cert_der
    with pytest.raises(security.UntrustedCertificate) as caught:
        security.check_server_certificate(tmp_path, der, "Plant at opc.tcp://plc:4840")
    rejected = caught.value.rejected_file
    assert rejected.parent == tmp_path / "rejected" and rejected.read_bytes() == der
    assert security.rejected_certificates(tmp_path) == [rejected]
    with pytest.raises(ValueError, match="is not a file name"):
        security.trust_rejected_certificate(tmp_path, "../own/cert.der")
    with pytest.raises(FileNotFoundError):
        security.trust_rejected_certificate(tmp_path, "nothing.der")
    trusted = security.trust_rejected_certificate(tmp_path, rejected.name)
    assert trusted.parent == tmp_path / "trusted" and not rejected.exists()
    security.check_server_certificate(tmp_path, der, "Plant")  # trusted now: no exception
    # a PEM copy in trusted/ counts too, and files that are no certificates are ignored
    other = tmp_path / "other"
    (other / "trusted").mkdir(parents=True)
    (other / "trusted" / "README.txt").write_text("not a certificate")
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
    (other / "trusted" / "plant.pem").write_bytes(pem)
    security.check_server_certificate(other, der, "Plant")
    with pytest.raises(security.SecuritySetupError, match="unreadable certificate"):
        security.check_server_certificate(other, b"garbage", "Plant")


# ---- secrets ----------------------------------------------------------------------------------
def test_secret_from_the_environment() -> None:
    env = {"PLANT_PW": "s3cret", "EMPTY": ""}
    assert secrets.resolve_password(password_env="PLANT_PW", environ=env) == "s3cret"
    with pytest.raises(secrets.SecretError, match="environment variable NOPE is not set"):
        secrets.resolve_password(password_env="NOPE", environ=env)
    with pytest.raises(secrets.SecretError, match="environment variable EMPTY is empty"):
        secrets.resolve_password(password_env="EMPTY", environ=env)
    with pytest.raises(secrets.SecretError, match="either an environment variable or a keyring"):
        secrets.resolve_password()
    with pytest.raises(ValueError, match="is not an environment variable name"):
        secrets.SecretRef(env="A=B")
    assert secrets.SecretRef(env="X").describe() == "environment variable X"


def test_secret_from_the_keyring(memory_keyring: dict[tuple[str, str], str]) -> None:
    memory_keyring[("hmi-app/opcua", "operator")] = "from-keyring"
    assert secrets.resolve_password(password_keyring="hmi-app/opcua/operator") == "from-keyring"
    with pytest.raises(
        secrets.SecretError, match="no password for user 'admin' of service 'hmi-app/opcua'"
    ):
        secrets.resolve_password(password_keyring="hmi-app/opcua/admin")
    with pytest.raises(
        secrets.SecretError, match="is not a keyring entry: write it as service/user"
    ):
        secrets.resolve_password(password_keyring="nouser")
    assert secrets.split_keyring_ref("svc/user") == ("svc", "user")


def test_an_expired_trusted_certificate_is_refused_with_its_date(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old-plc")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2021, 1, 1, tzinfo=dt.UTC))
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    (tmp_path / "trusted").mkdir()
    (tmp_path / "trusted" / "old.der").write_bytes(der)
    with pytest.raises(
        security.SecuritySetupError,
        match=r"trusted certificate of old-plc .* expired on 2021-01-01",
    ):
        security.check_server_certificate(tmp_path, der, "server Old at opc.tcp://old:4840")


def test_connections_sharing_a_pki_folder_make_one_key_pair(tmp_path: Path) -> None:
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        owns = list(
            pool.map(
                lambda _i: security.ensure_own_certificate(tmp_path, "urn:h:hmi-app"), range(4)
            )
        )
    assert all(own == owns[0] for own in owns)
    assert (tmp_path / "own" / "cert.der").read_bytes() == owns[0].cert_der
