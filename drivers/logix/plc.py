"""The one module that talks to pycomm3: a blocking connection to one Logix controller.

Everything here blocks and runs on the controller's single worker thread (see ``driver.py``).
Nothing else imports pycomm3, so the library can be replaced behind ``Controller``.

Two workarounds of pycomm3 1.2.x live here:

* **Duplicate single write.** ``LogixDriver._write_build_single_request`` builds the Write Tag
  message, then resets ``_msg_setup``; sending builds it again and *appends* the sequence number
  and the whole Write Tag service a second time to the same packet (``M..Tag..\x13\x00M..Tag..``).
  A controller that parses strictly refuses the packet (cpppo drops the session), one that does
  not may execute the write twice. ``_FixedLogixDriver`` keeps the message built once.
* **No tag list upload.** pycomm3 reads and writes only tags it has definitions for. When the
  controller cannot upload its tag list (``init_tags: false``, or the service is missing as in
  simulators), the definitions are made from the project's declarations (``TagTable``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from pycomm3 import LogixDriver as _Pycomm3LogixDriver
from pycomm3.cip.data_types import UINT, Array, DataTypes, StringDataType
from pycomm3.exceptions import CommError, PycommError
from pycomm3.packets.logix import WriteTagRequestPacket

from drivers.logix.tags import TagInfo, TagTable

log = logging.getLogger(__name__)

# Silence pycomm3's per-request tracebacks (it logs every failed tag with log.exception).
logging.getLogger("pycomm3").setLevel(logging.CRITICAL)


class CommFailure(Exception):
    """The connection is unusable (socket error, timeout, session closed): open a new one."""


@dataclass(frozen=True, slots=True)
class ReadResult:
    """One tag's answer: a value, or the controller's error text (``None`` value)."""

    value: Any
    error: str | None


class _DeclaredString(StringDataType):
    """A STRING whose definition came from the project, not the controller.

    Reads accept both encodings a device may answer with: the Logix built-in STRING structure
    (DINT length + 82 characters) and the CIP STRING (UINT length + characters). Writes send the
    CIP STRING (0xD0), padded to an even length.
    """

    code = 0xD0
    len_type = UINT  # type: ignore[assignment]

    @classmethod
    def _decode(cls, stream: BytesIO) -> str:
        data = stream.read()
        if len(data) >= 86:  # DINT LEN + SINT[82] (+ pad): a Logix STRING structure
            length = int.from_bytes(data[:4], "little")
            if length <= len(data) - 4:
                return data[4 : 4 + length].decode(cls.encoding)
        length = int.from_bytes(data[:2], "little")
        return data[2 : 2 + length].decode(cls.encoding)

    @classmethod
    def _encode(cls, value: str, *args: Any, **kwargs: Any) -> bytes:
        raw = value.encode(cls.encoding)
        return bytes(UINT.encode(len(raw))) + raw + (b"\x00" if len(raw) % 2 else b"")


class _FixedLogixDriver(_Pycomm3LogixDriver):
    """pycomm3's LogixDriver, with single writes sent once and packets counted."""

    packets = 0

    def send(self, request: Any) -> Any:
        self.packets += 1
        return super().send(request)

    def _write_build_single_request(self, parsed_tag: Any) -> Any:
        request = super()._write_build_single_request(parsed_tag)  # type: ignore[no-untyped-call]
        if type(request) is WriteTagRequestPacket:
            # pycomm3 built the message and reset the flag, so sending would append it again.
            request._msg_setup = True
        return request


def _error_text(exc: BaseException) -> str:
    """The message with its causes: pycomm3 says "socket connection broken" for a timeout too."""
    parts: list[str] = []
    cause: BaseException | None = exc
    while cause is not None and len(parts) < 4:
        text = str(cause).rstrip(".") or type(cause).__name__
        if not any(text in p for p in parts):
            parts.append(text)
        cause = cause.__cause__ or cause.__context__
    return ": ".join(parts)


class Controller:
    """A blocking connection to one controller; every method runs on the worker thread.

    ``open`` makes a new pycomm3 driver each time (a closed one is not reused: re-opening the
    same object is known not to recover from every failure).
    """

    def __init__(self, path: str, *, timeout_s: float, init_tags: bool) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self.init_tags = init_tags
        self.table: TagTable | None = None  # the uploaded tag list, when there is one
        self.upload_error = ""  # set when the controller could not upload its tag list
        self.info: dict[str, Any] = {}
        self.opened = 0  # pycomm3 driver objects opened so far
        self._plc: Any = None  # a _FixedLogixDriver (pycomm3 is untyped)
        self._declared: dict[str, Any] = {}
        self._packets_before = 0

    # ---- connection ----------------------------------------------------------------------
    def open(self) -> None:
        """Open a new connection (and upload the tag list if asked); CommFailure if it fails."""
        self.close()
        plc: Any = _FixedLogixDriver(self.path, init_tags=False, init_program_tags=False)
        plc.socket_timeout = self.timeout_s
        try:
            if not plc.open():
                raise CommFailure(f"could not connect to {self.path}")
        except PycommError as exc:
            self._discard(plc)
            raise CommFailure(_error_text(exc)) from None
        except OSError as exc:
            self._discard(plc)
            raise CommFailure(str(exc)) from None
        self._plc = plc
        self.opened += 1
        self.info = dict(plc.info)
        if self.init_tags and not self.upload_error:
            self.upload()
            if self.upload_error:
                # A refused upload may leave the session unusable (cpppo closes it): start over
                # on a new connection with the project's declarations.
                log.warning("%s: tag list upload unavailable: %s", self.path, self.upload_error)
                self.open()
        else:
            plc._tags = dict(self._declared)

    def upload(self) -> None:
        """Read the controller's tag list (controller and program scope) again.

        If the controller cannot upload it, ``upload_error`` says why and the project's
        declarations are used; CommFailure if the link is lost meanwhile.
        """
        plc = self._require()
        try:
            plc.get_tag_list(program="*")
        except CommError as exc:
            raise CommFailure(_error_text(exc)) from None
        except PycommError as exc:
            self.upload_error = _error_text(exc)
            self.table = None
            plc._tags = dict(self._declared)
            return
        self.upload_error = ""
        self.table = TagTable({name: _tag_info(name, raw) for name, raw in plc.tags.items()})

    def close(self) -> None:
        plc, self._plc = self._plc, None
        if plc is not None:
            self._packets_before += plc.packets
            self._discard(plc)

    @staticmethod
    def _discard(plc: Any) -> None:
        try:
            plc.close()
        except Exception as exc:  # closing a broken session may fail; the socket is gone anyway
            log.debug("closing pycomm3 driver: %s", exc)

    @property
    def connected(self) -> bool:
        return self._plc is not None and bool(self._plc.connected)

    @property
    def packets(self) -> int:
        """Request packets sent on all connections so far (a multi-service packet counts once)."""
        return self._packets_before + (self._plc.packets if self._plc is not None else 0)

    def _require(self) -> Any:
        if self._plc is None:
            raise CommFailure("not connected")
        return self._plc

    # ---- definitions ---------------------------------------------------------------------
    def declare(self, table: TagTable) -> None:
        """Definitions from the project, used when there is no uploaded tag list."""
        self._declared = {name: _definition(info) for name, info in table.tags.items()}
        if self._plc is not None and self.table is None:
            self._plc._tags = dict(self._declared)

    # ---- services ------------------------------------------------------------------------
    def read(self, requests: Sequence[str]) -> tuple[list[ReadResult], float]:
        """Read every request (pycomm3 packs them into multi-service packets); the results in
        order and the time the last reply arrived. CommFailure if the link is lost."""
        plc = self._require()
        if not requests:
            return [], time.time()
        try:
            tags = plc.read(*requests)
        except CommError as exc:
            raise CommFailure(_error_text(exc)) from None
        except OSError as exc:
            raise CommFailure(str(exc)) from None
        now = time.time()
        if len(requests) == 1:
            tags = [tags]
        if not plc.connected:
            raise CommFailure("session closed by the controller")
        return [ReadResult(t.value, t.error) for t in tags], now

    def write(self, request: str, value: Any) -> str | None:
        """Write one tag; None when done, else the controller's (or pycomm3's) error text."""
        plc = self._require()
        try:
            result = plc.write((request, value))
        except CommError as exc:
            raise CommFailure(_error_text(exc)) from None
        except OSError as exc:
            raise CommFailure(str(exc)) from None
        error: str | None = result.error
        return error


def _definition(info: TagInfo) -> dict[str, Any]:
    """A pycomm3 tag definition (what its tag list upload would give) for a declared tag."""
    if info.members:
        data_type: dict[str, Any] = {
            "name": info.type_name,
            "internal_tags": {k: _definition(v) for k, v in info.members.items()},
            "attributes": list(info.members),
            "template": {},
        }
        type_class: Any = None
        definition: dict[str, Any] = {
            "tag_name": info.name,
            "tag_type": "struct",
            "data_type": data_type,
            "data_type_name": info.type_name,
        }
    else:
        element: Any = _DeclaredString
        if info.type_name != "STRING":
            element = DataTypes.get(info.type_name)  # type: ignore[no-untyped-call]
        type_class = element
        definition = {
            "tag_name": info.name,
            "tag_type": "atomic",
            "data_type": info.type_name,
            "data_type_name": info.type_name,
        }
        if info.dims:
            type_class = Array(length_=info.elements, element_type_=element)
            definition["array"] = info.elements
    definition.update(
        dim=len(info.dims),
        dimensions=[*info.dims, 0, 0, 0][:3],
        alias=False,
        external_access="Read/Write",
        type_class=type_class,
    )
    return definition


def _tag_info(name: str, raw: Mapping[str, Any]) -> TagInfo:
    """A TagInfo from a pycomm3 tag definition (uploaded)."""
    dims = tuple(raw.get("dimensions", [0, 0, 0])[: raw.get("dim", 0)])
    return _member_info(name, raw, dims)


def _member_info(name: str, raw: Mapping[str, Any], dims: tuple[int, ...]) -> TagInfo:
    if raw.get("tag_type") == "struct" and isinstance(raw.get("data_type"), Mapping):
        data_type = raw["data_type"]
        if "string" in data_type:
            return TagInfo(name, "STRING", dims, description=str(data_type.get("name", "")))
        members: dict[str, TagInfo] = {}
        internal = data_type.get("internal_tags", {})
        for member in data_type.get("attributes", []):
            spec = internal.get(member)
            if spec is None:
                continue
            array = int(spec.get("array", 0) or 0)
            member_dims = (array,) if array and spec.get("data_type_name") != "BOOL" else ()
            members[member] = _member_info(member, spec, member_dims)
        return TagInfo(name, str(data_type.get("name", "")), dims, members, is_struct=True)
    type_name = str(raw.get("data_type_name", ""))
    if type_name == "DWORD" and dims:  # a BOOL array: Logix packs it in DWORDs
        return TagInfo(name, "BOOL", (dims[0] * 32, *dims[1:]), description="BOOL array")
    return TagInfo(name, type_name, dims)
