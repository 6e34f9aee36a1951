"""One screen file being edited in the designer: its widgets, an undo stack and splice saving.

``ScreenDocument`` is what the canvas, the inspector and the designer window edit. Every edit is
one command on a ``QUndoStack`` with a readable text ("Move 3 widgets", "Set label of pump_2");
its state is the file's text cut into pieces (``screen_text.ScreenText``), and an edit rewrites
only what it changes: moving a widget changes the one line holding its ``[x, y, w, h]``, setting
a property splices that key into the widget's ``props``, new widgets are appended at the end of
``widgets:`` in the file's prevailing style (flow one-liners or block items), and a removed
widget takes its item lines and the comment lines directly above it (a comment block separated
from it by a blank line stays). The z-order is the file order (last drawn on top). Loading and
saving without edits leaves the file byte-identical; undoing every edit restores the exact bytes.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from hmi_app.core.project.editing import BACKUPS_KEPT
from hmi_app.core.project.yamlio import ProjectIssue, YamlDocument
from hmi_app.core.tagsource import TagMeta
from screens.designer.commands import EditCommand
from screens.designer.entries import DesignIssue, Geometry, WidgetEntry
from screens.designer.save_snapshot import SaveSnapshot, disk_error
from screens.designer.screen_text import (
    DocumentError,
    SaveRefused,
    ScreenText,
    changed_on_disk,
    new_screen_text,
    parse_screen,
)
from screens.designer.text_edits import (
    RESTACK_TEXT,
    edited_item,
    merge3,
    moved_item,
    new_item,
    plain_entry,
    plain_value,
    restacked,
    with_screen_keys,
    without,
)
from screens.designer.validation import validate_document

__all__ = [
    "DesignIssue",
    "DocumentError",
    "SaveRefused",
    "SaveSnapshot",
    "ScreenDocument",
    "WidgetEntry",
]

Where = Literal["front", "back", "forward", "backward"]
_ID_TAIL = re.compile(r"_(\d+)$")


def _plural(count: int, one: str) -> str:
    return f"{count} {one}s" if count != 1 else f"1 {one}"


class ScreenDocument(QObject):
    """One screen file being edited: the entries, an undo stack, and text-splice saving."""

    changed = Signal()
    """After every edit, undo and redo."""
    entries_changed = Signal(list)
    """The ids whose entry changed, was added or was removed."""
    saved = Signal(object)
    """The path just written (operator screens reload it)."""

    def __init__(self, path: Path, state: ScreenText, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self._state = state
        self.undo_stack = QUndoStack(self)
        self._new_file = False
        self._on_disk: bytes | None = None  # the file as read or last written by this document

    # ---- opening ------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> ScreenDocument:
        """Open ``path``; DocumentError (``file:line: message``) if it cannot be edited."""
        path = Path(path)
        try:
            raw = path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            raise DocumentError([ProjectIssue(path.name, 0, "", "file not found")]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DocumentError(
                [ProjectIssue(path.name, 0, "", f"cannot be read: {exc}")]
            ) from None
        document = cls(path, parse_screen(raw, path.name, path.stem))
        document._on_disk = raw.encode("utf-8")
        return document

    @classmethod
    def from_text(cls, path: Path, text: str) -> ScreenDocument:
        """A document for ``text`` that will be saved to ``path`` (nothing is read)."""
        return cls(Path(path), parse_screen(text, Path(path).name, Path(path).stem))

    @classmethod
    def new(
        cls,
        path: Path,
        name: str,
        size: tuple[int, int] = (1280, 720),
        title: str = "",
        *,
        background: str = "#d9d9d9",
        parameters: Mapping[str, Mapping[str, str]] | None = None,
    ) -> ScreenDocument:
        """A new empty screen (not yet written: ``save()`` creates the file)."""
        params = {k: dict(v) for k, v in (parameters or {}).items()}
        document = cls.from_text(path, new_screen_text(name, size, title, params, background))
        document._new_file = True
        return document

    # ---- reading ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The screen's ``name:`` (its file stem when the file has none)."""
        return self._state.meta.name

    @property
    def title(self) -> str:
        """The screen's ``title:`` ("" when the file has none)."""
        return self._state.meta.title

    @property
    def size(self) -> tuple[int, int]:
        """The design size, width and height in design pixels."""
        return self._state.meta.size

    @property
    def background(self) -> str:
        """The background colour, e.g. ``#d9d9d9``."""
        return self._state.meta.background

    def entries(self) -> list[WidgetEntry]:
        """Every widget in z-order (file order: the last is drawn on top)."""
        return [item.entry for item in self._state.items]

    def entry(self, id: str) -> WidgetEntry:
        """The widget with ``id`` (KeyError if there is none)."""
        return self._state.items[self._state.index(id)].entry

    def __contains__(self, id: object) -> bool:
        try:
            self._state.index(str(id))
        except KeyError:
            return False
        return True

    def new_id(self, type_key: str, reserved: Collection[str] = ()) -> str:
        """``<type>_<n>`` not used in the file (nor in ``reserved``): the lowest free n >= 1."""
        used = {item.entry.id for item in self._state.items} | set(reserved)
        n = 1
        while f"{type_key}_{n}" in used:
            n += 1
        return f"{type_key}_{n}"

    def text(self) -> str:
        """The file text after the edits (only the spans they touched differ)."""
        return self._state.text()

    def is_modified(self) -> bool:
        """Edits not saved yet (or a new screen never saved)."""
        return self._new_file or not self.undo_stack.isClean()

    def group_of(self, id: str) -> str | None:
        """The group widget ``id`` belongs to (None: not grouped)."""
        return self.entry(id).group

    def group_members(self, group_id: str) -> list[str]:
        """The widgets of a group, in z-order."""
        return [i.entry.id for i in self._state.items if i.entry.group == group_id]

    # ---- edits --------------------------------------------------------------------------------

    def add_widgets(self, entries: Sequence[WidgetEntry]) -> None:
        """Append ``entries`` on top (paste, duplicate, drop); ValueError if an id is taken."""
        if not entries:
            return
        entries = [plain_entry(entry) for entry in entries]
        state = self._state
        taken = {item.entry.id for item in state.items}
        for entry in entries:
            if entry.id in taken:
                raise ValueError(f"id {entry.id!r} is already used on screen {self.name!r}")
            taken.add(entry.id)
        flow = state.flow_preferred
        added = tuple(new_item(e, state.dash, state.newline, flow=flow) for e in entries)
        items = state.items
        if items and not items[-1].body.endswith("\n"):  # file ended without a newline
            items = (*items[:-1], replace(items[-1], body=items[-1].body + state.newline))
        what = entries[0].id if len(entries) == 1 else _plural(len(entries), "widget")
        self._push(state.with_items(items + added), f"Add {what}")

    def remove_widgets(self, ids: Sequence[str]) -> None:
        """Delete the widgets (with the comment lines directly above each)."""
        gone = {i for i in ids if i in self}
        if gone:
            what = next(iter(gone)) if len(gone) == 1 else _plural(len(gone), "widget")
            self._push(without(self._state, gone), f"Delete {what}")

    def set_geometries(self, geometries: Mapping[str, Geometry], text: str = "Move") -> None:
        """Move/resize widgets; consecutive calls for the same widgets merge into one undo step."""
        state = self._state
        items = list(state.items)
        changed: list[str] = []
        for id_, geometry in geometries.items():
            index = state.index(id_)
            geometry = (int(geometry[0]), int(geometry[1]), int(geometry[2]), int(geometry[3]))
            if items[index].entry.geometry != geometry:
                items[index] = moved_item(items[index], geometry)
                changed.append(id_)
        if not changed:
            return
        what = changed[0] if len(geometries) == 1 else _plural(len(geometries), "widget")
        key = (text, frozenset(geometries))
        self._push(state.with_items(tuple(items)), f"{text} {what}", merge_key=key)

    def break_merge(self) -> None:
        """End a gesture: the next move is a new undo step even for the same widgets."""
        command = self.undo_stack.command(self.undo_stack.index() - 1)
        if isinstance(command, EditCommand):
            command.mergeable = False

    def set_prop(self, id: str, name: str, value: Any) -> None:
        """Set static property ``name`` (``None`` removes the key: the widget's default)."""
        entry = self.entry(id)
        props = dict(entry.props)
        value = plain_value(value)
        if value is None:
            if name not in props:
                return
            del props[name]
            label = f"Clear {name} of {id}"
        else:
            if props.get(name) == value and name in props:
                return
            props[name] = value
            label = f"Set {name} of {id}"
        self._edit({id: replace(entry, props=props)}, label)

    def set_binding(self, id: str, prop: str, source: str | None) -> None:
        """Bind ``prop`` to a tag name or expression (``None`` or empty unbinds it)."""
        entry = self.entry(id)
        bind = dict(entry.bind)
        if not source:
            if prop not in bind:
                return
            del bind[prop]
            label = f"Unbind {prop} of {id}"
        else:
            if bind.get(prop) == source:
                return
            bind[prop] = source
            label = f"Bind {prop} of {id} to {source}"
        self._edit({id: replace(entry, bind=bind)}, label)

    def set_on_click(self, id: str, action: Mapping[str, Any] | None) -> None:
        """What a click does (``{navigate: screen}`` or ``{faceplate: t, params: {...}}``)."""
        entry = self.entry(id)
        new = plain_value(dict(action)) if action else None
        if new == (dict(entry.on_click) if entry.on_click is not None else None):
            return
        label = f"Set click action of {id}" if new else f"Clear click action of {id}"
        self._edit({id: replace(entry, on_click=new)}, label)

    def restack(self, ids: Sequence[str], where: Where) -> None:
        """Change the z-order (file order) of ``ids``: to the front/back or one step."""
        chosen = {i for i in ids if i in self}
        state = restacked(self._state, chosen, where) if chosen else None
        if state is None:
            return
        what = next(iter(chosen)) if len(chosen) == 1 else _plural(len(chosen), "widget")
        self._push(state, RESTACK_TEXT[where].format(what))

    def group(self, ids: Sequence[str]) -> str:
        """Put ``ids`` in a new group (saved as ``group: <id>`` on each); the group id."""
        used = {i.entry.group for i in self._state.items if i.entry.group}
        n = 1
        while f"group_{n}" in used:
            n += 1
        group_id = f"group_{n}"
        members = [i for i in ids if i in self]
        self._edit(
            {i: replace(self.entry(i), group=group_id) for i in members},
            f"Group {_plural(len(members), 'widget')}",
        )
        return group_id

    def ungroup(self, group_id: str) -> None:
        """Dissolve a group (its widgets stay where they are)."""
        members = self.group_members(group_id)
        self._edit({i: replace(self.entry(i), group=None) for i in members}, f"Ungroup {group_id}")

    def set_screen_props(
        self,
        *,
        title: str | None = None,
        size: tuple[int, int] | None = None,
        background: str | None = None,
        name: str | None = None,
    ) -> None:
        """Change the screen's title, design size, background (or name: see screen_files)."""
        state = self._state
        meta = state.meta
        changes: dict[str, Any] = {}
        if title is not None and title != meta.title:
            changes["title"] = title
        if size is not None and tuple(size) != meta.size:
            changes["size"] = (int(size[0]), int(size[1]))
        if background is not None and background != meta.background:
            changes["background"] = background
        if name is not None and name != meta.name:
            changes["name"] = name
        if not changes:
            return
        self._push(with_screen_keys(state, changes), "Change screen " + ", ".join(changes))

    def _edit(self, entries: Mapping[str, WidgetEntry], label: str) -> None:
        state = self._state
        items = list(state.items)
        for id_, entry in entries.items():
            index = state.index(id_)
            if items[index].entry != entry:
                items[index] = edited_item(items[index], entry, state.newline)
        if items != list(state.items):
            self._push(state.with_items(tuple(items)), label)

    def _push(
        self, state: ScreenText, label: str, merge_key: tuple[str, frozenset[str]] | None = None
    ) -> None:
        self.undo_stack.push(EditCommand(self._apply, self._state, state, label, merge_key))

    def _apply(self, state: ScreenText) -> None:
        old = {i.entry.id: i for i in self._state.items}
        new = {i.entry.id: i for i in state.items}
        ids = [i for i in new if old.get(i) is not new[i]] + [i for i in old if i not in new]
        self._state = state
        self.entries_changed.emit(ids)
        self.changed.emit()

    # ---- checking and saving -----------------------------------------------------------------

    def reload(self) -> None:
        """Read the file again, dropping the edits and their undo history (after the file was
        changed on disk, e.g. a screen rename updated its links); DocumentError if unreadable."""
        fresh = ScreenDocument.load(self.path)
        self.undo_stack.clear()
        self._on_disk = fresh._on_disk
        self._new_file = False
        self._apply(fresh._state)
        fresh.deleteLater()

    def merge_disk_changes(self) -> bool:
        """Take what was changed in the file on disk since this document read it (a screen
        rename updating its links, say) and keep the edits: one undoable step. False, and
        nothing changed, when both changed the same lines (then reload() or save(force=True))."""
        try:
            disk = self.path.read_bytes()
        except OSError:
            return False
        if disk == self._on_disk:
            return True
        if not self.is_modified():
            self.reload()
            return True
        if self._on_disk is None:
            return False
        merged = merge3(
            self._on_disk.decode("utf-8"), self.text(), disk.decode("utf-8", errors="replace")
        )
        if merged is None:
            return False
        try:
            state = parse_screen(merged, self.path.name, self.path.stem)
        except DocumentError:
            return False
        self._on_disk = disk
        self.break_merge()
        self._push(state, "Take changes made on disk")
        return True

    def changed_on_disk(self) -> str | None:
        """Why the file on disk is no longer the one this document read (None: it is)."""
        return changed_on_disk(self.path, self._on_disk)

    def _check_disk(self) -> None:
        reason = self.changed_on_disk()
        if reason is not None:
            raise disk_error(self.path, reason)

    def validate(
        self,
        tags: Mapping[str, TagMeta] | Collection[str] | None,
        screens: Collection[str] | None = None,
        others: Mapping[str, YamlDocument] | None = None,
    ) -> list[DesignIssue]:
        """Every problem a save would meet (see ``screens.designer.validation``); ``others``
        (the project's other screen files) adds the app's checks across files."""
        return validate_document(self, tags, screens, others)

    def save(
        self,
        tags: Mapping[str, TagMeta] | Collection[str] | None = None,
        screens: Collection[str] | None = None,
        *,
        force: bool = False,
        backups_kept: int = BACKUPS_KEPT,
    ) -> list[DesignIssue]:
        """Check, then write atomically with a backup of the previous file; the issues found.

        Errors (an unknown widget type, an invalid property, an unknown tag when ``tags`` is
        given, an off-screen widget...) raise SaveRefused and nothing is written unless
        ``force``; warnings (overlaps) are returned and do not stop the save. A file changed
        on disk since this document read it (another designer, a screen rename updating its
        links) is not overwritten either unless ``force`` (DocumentError; the other version
        then goes to the backups).
        """
        snapshot = self.snapshot()
        issues = snapshot.validate(tags, screens)
        if not force and any(i.severity == "error" for i in issues):
            raise SaveRefused(self.path.name, issues)
        self.mark_saved(snapshot, snapshot.write(force=force, backups_kept=backups_kept))
        return issues

    def snapshot(self) -> SaveSnapshot:
        """The document as it is now, to check and write on a worker thread (see save())."""
        return SaveSnapshot(
            self.path, self._state, self.undo_stack.index(), self.text(), self._on_disk
        )

    def mark_saved(self, snapshot: SaveSnapshot, data: bytes) -> bool:
        """``snapshot`` was written as ``data``: the file on disk is that now. The document is
        marked unmodified only when no edit came since the snapshot (True); otherwise its newer
        edits stay unsaved (False)."""
        self._on_disk = data
        self._new_file = False
        clean = self._state is snapshot.state and self.undo_stack.index() == snapshot.index
        if clean:
            self.undo_stack.setClean()
        self.saved.emit(self.path)
        return clean
