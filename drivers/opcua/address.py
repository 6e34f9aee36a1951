"""OPC UA tag addresses: node ids, namespace-URI node ids and browse paths, with an element index.

Forms a tag's ``address`` may take:

* ``ns=2;s=Line1.Speed``, ``ns=2;i=1001``, ``ns=2;g=09087e75-8e5e-499b-954f-f2a9603db28a``,
  ``ns=2;b=AAEC`` (opaque, base64), and ``i=2258`` (namespace 0) - the node id as the server
  shows it;
* ``nsu=urn:plant:line1;s=Line1.Speed`` - the namespace by URI, looked up when connecting (the
  index of a namespace may change when a server is reconfigured, its URI does not);
* ``/Objects/2:Line1/2:Speed`` - a browse path from the Root folder, each element
  ``namespace:BrowseName`` (no prefix: namespace 0); resolved when connecting;
* any of these followed by ``[3]`` (one element of an array node: a scalar tag) or ``[2:5]``
  (elements 2 to 5: an array tag of 4 elements).

Parsing needs no connection, so ``validate`` gives its verdict offline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from asyncua import ua
from asyncua.ua.uaerrors import UaStringParsingError

from drivers.base import AddressError, PointSpec

_INDEX = re.compile(r"^(?P<base>.+?)\[(?P<first>\d+)(?::(?P<last>\d+))?\]$")
_PATH_ELEMENT = re.compile(r"^(?:(?P<ns>\d+):)?(?P<name>[^/]+)$")
_NODE_ID_HINT = (
    "a node id such as ns=2;s=Line1.Speed or ns=2;i=1001,"
    " or a browse path such as /Objects/2:Line1/2:Speed"
)


@dataclass(frozen=True, slots=True)
class OpcAddress:
    """A parsed address. Exactly one of ``node_id``/``path`` is set."""

    text: str
    node_id: ua.NodeId | None = None  # namespace given by index
    namespace_uri: str | None = None  # for nsu=...; node_id then holds the id with index 0
    path: tuple[tuple[int, str], ...] = ()
    index: tuple[int, int] | None = None  # inclusive element range
    literal: OpcAddress | None = None  # the whole text as a node id, should the index be a name

    @property
    def index_range(self) -> str | None:
        """The OPC UA IndexRange text (``"3"`` or ``"2:5"``), None for the whole value."""
        if self.index is None:
            return None
        first, last = self.index
        return str(first) if first == last else f"{first}:{last}"

    @property
    def element_count(self) -> int:
        """Elements an index range selects (0: no index)."""
        return 0 if self.index is None else self.index[1] - self.index[0] + 1

    @property
    def is_path(self) -> bool:
        return bool(self.path)

    @property
    def node_text(self) -> str:
        """The address without its index."""
        if self.index is None:
            return self.text
        match = _INDEX.match(self.text)
        return match.group("base") if match else self.text


def parse(text: str) -> OpcAddress:
    """Parse an address; AddressError says what is wrong in the user's terms."""
    text = text.strip()
    if not text:
        raise AddressError(f"the address is empty: give {_NODE_ID_HINT}")
    match = _INDEX.match(text)
    if match is None:
        return _parse_node(text, text, None)
    first, last_text = int(match.group("first")), match.group("last")
    last = int(last_text) if last_text is not None else first
    if last <= first and last_text is not None:
        raise AddressError(
            f"{text!r}: the index range [{first}:{last}] must end after it starts (e.g. [2:5])"
        )
    base = match.group("base")
    parsed = _parse_node(base, text, (first, last))
    literal: OpcAddress | None = None
    if parsed.node_id is not None and parsed.node_id.NodeIdType == ua.NodeIdType.String:
        # a string node id may itself end in [n] (Siemens: "DB1"."arr"[3]); try it whole too
        try:
            literal = _parse_node(text, text, None)
        except AddressError:
            literal = None
    return OpcAddress(
        text,
        parsed.node_id,
        parsed.namespace_uri,
        parsed.path,
        parsed.index,
        literal,
    )


def _parse_node(node: str, text: str, index: tuple[int, int] | None) -> OpcAddress:
    if node.startswith("/"):
        return OpcAddress(text, path=_parse_path(node, text), index=index)
    namespace_uri: str | None = None
    id_text = node
    if node.startswith("nsu="):
        uri, sep, rest = node[4:].partition(";")
        if not sep or not uri or not rest:
            raise AddressError(
                f"{text!r}: write a namespace URI node id as nsu=<uri>;s=<name> (or i=, g=, b=)"
            )
        namespace_uri, id_text = uri, rest
    elif not re.match(r"^(ns=\d+;)?[isgb]=", node):
        raise AddressError(f"{text!r} is not an OPC UA address: give {_NODE_ID_HINT}")
    try:
        node_id = ua.NodeId.from_string(id_text)
    except (UaStringParsingError, ValueError) as exc:
        cause = exc.args[1] if len(exc.args) > 1 else exc
        raise AddressError(
            f"{text!r} is not a valid node id ({cause}): give {_NODE_ID_HINT}"
        ) from None
    if namespace_uri is not None and node_id.NamespaceIndex != 0:
        raise AddressError(f"{text!r}: give the namespace either as ns= or as nsu=, not both")
    return OpcAddress(text, node_id, namespace_uri, index=index)


def _parse_path(path: str, text: str) -> tuple[tuple[int, str], ...]:
    elements: list[tuple[int, str]] = []
    for part in path[1:].split("/"):
        match = _PATH_ELEMENT.match(part)
        if match is None:
            raise AddressError(
                f"{text!r}: empty element in the browse path (write /Objects/2:Line1/2:Speed)"
            )
        elements.append((int(match.group("ns") or 0), match.group("name")))
    return tuple(elements)


def validate(point: PointSpec) -> OpcAddress:
    """Check that ``point`` can be read as given; returns the parsed address."""
    address = parse(point.address)
    count = address.element_count
    if count == 1 and point.array_length:
        raise AddressError(
            f"{point.address!r} selects one element, but the tag is an array of"
            f" {point.array_length}: remove array_length or give a range such as"
            f" [0:{point.array_length - 1}]"
        )
    if count > 1 and point.array_length != count:
        raise AddressError(
            f"{point.address!r} selects {count} elements: set array_length: {count}"
            + (f" (it is {point.array_length})" if point.array_length else "")
        )
    if point.scan_ms <= 0:
        raise AddressError(f"{point.address!r}: the scan period must be more than 0 ms")
    return address
