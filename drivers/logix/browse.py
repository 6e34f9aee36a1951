"""The controller's tag list as browse nodes for the tag browser.

``browse("")`` gives the controller-scope tags and one expandable node per program;
``browse("Program:Main")`` that program's tags; ``browse("Tag")`` or ``browse("Tag[0]")`` the
members of a structure (an array of structures is opened at an element).
"""

from __future__ import annotations

import re

from drivers.base import BrowseNode
from drivers.logix.tags import TagInfo, TagTable

_INDEX = re.compile(r"\[[0-9,]*\]")


def browse(table: TagTable, path: str) -> list[BrowseNode]:
    """Children of ``path`` in ``table`` (empty for an unknown path or an atomic tag)."""
    if not path:
        nodes = [_node(info, info.name) for info in table.controller_tags()]
        nodes += [
            BrowseNode(name, f"Program:{name}", expandable=True, description="program")
            for name in table.programs()
        ]
        return nodes
    if path.startswith("Program:") and "." not in path:
        return [_node(info, info.name) for info in table.program_tags(path[len("Program:") :])]
    info = _lookup(table, path)
    if info is None or not info.expandable:
        return []
    return [_node(member, f"{path}.{name}") for name, member in info.members.items()]


def _node(info: TagInfo, address: str) -> BrowseNode:
    name = address.rsplit(".", 1)[-1] if not address.startswith("Program:") else info.name
    name = name.split(".", 1)[-1] if name.startswith("Program:") else name
    if info.expandable and info.dims:
        # an array of structures opens at its first element
        address = f"{address}[{','.join('0' for _ in info.dims)}]"
    return BrowseNode(
        name,
        address,
        info.data_type,
        expandable=info.expandable,
        description=info.type_text() + (f" ({info.description})" if info.description else ""),
    )


def _lookup(table: TagTable, path: str) -> TagInfo | None:
    parts = path.split(".")
    base = parts.pop(0)
    if base.startswith("Program:"):
        if not parts:
            return None
        base = f"{base}.{parts.pop(0)}"
    info = table.get(_INDEX.sub("", base))
    for part in parts:
        if info is None:
            return None
        info = info.members.get(_INDEX.sub("", part))
    return info
