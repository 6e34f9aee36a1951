"""The palette of widgets a supervisor drags onto a screen, and how the designer previews them.

Everything comes from the widget registry (``widgets.registry.WIDGET_TYPES``): a new widget
module appears in the palette with no change here. Each entry shows an icon painted by the
widget itself from its ``EXAMPLE`` (its example props, fed its example values), its type key
and the first line of its docstring. Dragging an entry starts a ``QDrag`` carrying the type key
as ``application/x-hmi-widget``; double-clicking emits ``activated`` (the designer adds the
widget in the middle of the visible screen).

The drop handlers at the end place a dropped type on the design canvas: centred on the drop
point at its EXAMPLE size, snapped like a move, previewed while the drag hovers.

``preview_widget`` builds a widget the way the screen renderer does (its class, its validated
props, its resource folder) and feeds each bound property its example value with GOOD quality,
so a screen under design looks like the running screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QDrag, QDragEnterEvent, QDragMoveEvent, QDropEvent, QPainter, QPixmap
from PySide6.QtWidgets import (
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from screens.designer.entries import WidgetEntry
from screens.designer.snapping import DEFAULT_THRESHOLD_PX, Snapped, SnapTargets, snap_move
from widgets import theme
from widgets.base import HmiWidget, HmiWriter
from widgets.registry import WIDGET_TYPES, widget_class

if TYPE_CHECKING:
    from screens.designer.canvas import DesignCanvas

MIME_TYPE = "application/x-hmi-widget"
ICON_SIZE = QSize(64, 40)
DEFAULT_SIZE = (120, 40)
"""The size a widget without an EXAMPLE is dropped at."""
_ROLE_KEY = Qt.ItemDataRole.UserRole
_ROLE_DESCRIPTION = Qt.ItemDataRole.UserRole + 1
_icons: dict[str, QPixmap] = {}


def _no_write(_value: Any) -> None:
    """A designer preview writes nothing (controls only need a handler to look enabled)."""


def friendly_label(cls: type[HmiWidget]) -> str:
    """The first line of the widget class's docstring: what it is, in words."""
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0].strip().replace("``", "") if doc else cls.__name__


def example_size(type_key: str) -> tuple[int, int]:
    """The size a newly placed widget of ``type_key`` gets: its EXAMPLE's."""
    example = widget_class(type_key).EXAMPLE
    return example.size if example is not None else DEFAULT_SIZE


def example_props(type_key: str) -> dict[str, Any]:
    """The props a newly placed widget of ``type_key`` gets: its EXAMPLE's (a copy)."""
    example = widget_class(type_key).EXAMPLE
    return dict(example.props) if example is not None else {}


def preview_widget(
    type_key: str,
    props: Mapping[str, Any],
    bind: Mapping[str, str],
    folder: Path | None = None,
    tags: Mapping[str, TagMeta] | None = None,
    current: Callable[[str], TagValue | None] | None = None,
) -> HmiWidget:
    """The widget as the designer shows it: built like the renderer builds it, each bound
    property fed the EXAMPLE's value (GOOD) under the bound tag's name, with the tag's own
    metadata (units, format, range) when ``tags`` knows it. With ``current`` (the live
    source's last value of a tag, a memory read), a tag that has a good value shows it instead:
    the screen under design then reads as the plant stands, state texts included.

    A bound property the EXAMPLE has no value for stays unbound. Raises ``KeyError`` for an
    unknown type and pydantic's ``ValidationError`` for props the widget rejects.
    """
    cls = widget_class(type_key)
    widget = cls(cls.Props.model_validate(dict(props)))
    if folder is not None:
        widget.set_resource_dir(folder)
    samples = cls.EXAMPLE.values if cls.EXAMPLE is not None else {}
    now = time.time()
    for prop, source in bind.items():
        sample = samples.get(prop)
        if sample is None or prop not in cls.BINDABLE:
            continue
        meta, value = sample
        known = tags.get(source) if tags is not None else None
        widget.bind_meta(prop, known if known is not None else replace(meta, name=source))
        live = current(source) if current is not None and known is not None else None
        if live is not None and live.is_good and live.value is not None:
            value = live.value
        widget.apply(prop, TagValue(value, Quality.GOOD, now, now))
    if isinstance(widget, HmiWriter):
        widget.set_write_handler(_no_write)
    return widget


def is_unbound(type_key: str, props: Mapping[str, Any], bind: Mapping[str, str]) -> bool:
    """Whether a widget that shows tag values has none bound and no static stand-in (a text
    label with a ``text`` prop is not unbound; a numeric display with no binding is)."""
    cls = WIDGET_TYPES.get(type_key)
    if cls is None or not cls.BINDABLE or bind:
        return False
    return not any(props.get(prop) for prop in cls.BINDABLE)


def describe(entry: WidgetEntry, problem: str | None = None) -> str:
    """The canvas tooltip of a widget: id, type, why it cannot be shown, bindings (or that
    nothing is bound), group."""
    lines = [f"{entry.id} ({entry.type})"]
    if problem:
        lines.append(f"cannot show: {problem[:160]}")
    lines += [f"{prop} \u2190 {source}" for prop, source in entry.bind.items()]
    if is_unbound(entry.type, entry.props, entry.bind):
        lines.append("not bound to a tag yet")
    if entry.group is not None:
        lines.append(f"in {entry.group}: a click selects the whole group")
    return "\n".join(lines)


def widget_icon(type_key: str) -> QPixmap:
    """The palette icon of ``type_key``: its EXAMPLE painted by the widget, scaled down
    (made once per type; needs a QApplication)."""
    icon = _icons.get(type_key)
    if icon is not None:
        return icon
    cls = widget_class(type_key)
    example = cls.EXAMPLE
    width, height = example.size if example is not None else DEFAULT_SIZE
    bind = {prop: meta.name for prop, (meta, _v) in (example.values if example else {}).items()}
    widget = preview_widget(type_key, example.props if example else {}, bind)
    widget.set_geometry(QRect(0, 0, width, height))
    full = QPixmap(width, height)
    full.fill(theme.SCREEN_BG)
    painter = QPainter(full)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    widget.paint(painter)
    painter.end()
    scaled = full.scaled(
        ICON_SIZE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    icon = QPixmap(ICON_SIZE)
    icon.fill(Qt.GlobalColor.transparent)
    painter = QPainter(icon)
    painter.drawPixmap(
        (ICON_SIZE.width() - scaled.width()) // 2,
        (ICON_SIZE.height() - scaled.height()) // 2,
        scaled,
    )
    painter.end()
    _icons[type_key] = icon
    return icon


def mime_data(type_key: str) -> QMimeData:
    """What dragging ``type_key`` from the palette carries."""
    data = QMimeData()
    data.setData(MIME_TYPE, type_key.encode("utf-8"))
    data.setText(type_key)
    return data


def type_key_of(data: QMimeData | None) -> str | None:
    """The registered widget type a drag carries, or None (not ours, or unknown)."""
    if data is None or not data.hasFormat(MIME_TYPE):
        return None
    key = bytes(data.data(MIME_TYPE).data()).decode("utf-8", "replace")
    return key if key in WIDGET_TYPES else None


class _Delegate(QStyledItemDelegate):
    """Icon, bold type key and the description in muted text beneath."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(200, ICON_SIZE.height() + 20)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        painter.save()
        rect: QRect = option.rect
        state = option.state
        if state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, theme.PANEL_EDGE)
        elif state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, theme.PANEL_BG)
        key = str(index.data(_ROLE_KEY))
        painter.drawPixmap(rect.left() + 4, rect.top() + 10, widget_icon(key))
        text_left = rect.left() + ICON_SIZE.width() + 12
        text_rect = QRect(text_left, rect.top() + 4, rect.right() - text_left - 4, 20)
        painter.setPen(theme.TEXT)
        painter.setFont(theme.font(theme.LABEL_PX, bold=True))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter, key)
        small = theme.font(theme.CAPTION_PX - 1)
        painter.setFont(small)
        painter.setPen(theme.TEXT_MUTED)
        fm = theme.metrics(small)
        lines = 2  # at most two lines, the second cut short with an ellipsis
        below = QRect(text_left, rect.top() + 24, text_rect.width(), round(fm.height() * lines))
        text = fm.elidedText(
            str(index.data(_ROLE_DESCRIPTION)), Qt.TextElideMode.ElideRight, below.width() * 1.7
        )
        painter.drawText(below, int(Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap), text)
        painter.restore()


class _TypeList(QListWidget):
    """The list of widget types; a drag carries the type key of the dragged entry."""

    def mimeTypes(self) -> list[str]:
        return [MIME_TYPE]

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:
        key = str(items[0].data(_ROLE_KEY)) if items else ""
        return mime_data(key)

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        """Drag the entry under the mouse, showing its icon under the cursor."""
        item = self.currentItem()
        if item is None:
            return
        drag = QDrag(self)
        drag.setMimeData(self.mimeData([item]))
        icon = widget_icon(str(item.data(_ROLE_KEY)))
        drag.setPixmap(icon)
        drag.setHotSpot(QPoint(icon.width() // 2, icon.height() // 2))
        drag.exec(Qt.DropAction.CopyAction)


class WidgetPalette(QWidget):
    """Every registered widget type with its icon, name and description, filtered by a search
    box; drag one onto the design canvas, or double-click it (``activated``)."""

    activated = Signal(str)
    """A type key double-clicked (or Enter pressed on it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search widgets")
        self.search.setClearButtonEnabled(True)
        self.list = _TypeList(self)
        self.list.setDragEnabled(True)
        self.list.setDragDropMode(QListWidget.DragDropMode.DragOnly)
        self.list.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.list.setItemDelegate(_Delegate(self.list))
        self.list.setMouseTracking(True)
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for key, cls in WIDGET_TYPES.items():
            item = QListWidgetItem(key)
            description = friendly_label(cls)
            item.setData(_ROLE_KEY, key)
            item.setData(_ROLE_DESCRIPTION, description)
            item.setToolTip(f"{key}: {description}\nDrag onto the screen, or double-click.")
            self.list.addItem(item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.search.textChanged.connect(self.filter)
        self.list.itemActivated.connect(self._activate)

    def filter(self, text: str) -> None:
        """Show only the types whose key or description contains every word of ``text``."""
        words = text.lower().split()
        for row in range(self.list.count()):
            item = self.list.item(row)
            haystack = f"{item.data(_ROLE_KEY)} {item.data(_ROLE_DESCRIPTION)}".lower()
            item.setHidden(not all(word in haystack for word in words))

    def visible_keys(self) -> list[str]:
        """The type keys the filter shows, in order."""
        return [
            str(self.list.item(row).data(_ROLE_KEY))
            for row in range(self.list.count())
            if not self.list.item(row).isHidden()
        ]

    def item_of(self, type_key: str) -> QListWidgetItem:
        """The list entry of ``type_key`` (tests drive it with the mouse)."""
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(_ROLE_KEY) == type_key:
                return item
        raise KeyError(type_key)

    def _activate(self, item: QListWidgetItem) -> None:
        self.activated.emit(str(item.data(_ROLE_KEY)))


# ---- drops on the design canvas ------------------------------------------------------------------
def placement(canvas: DesignCanvas, type_key: str, at: QPointF, snap: bool = True) -> Snapped:
    """Where a new ``type_key`` widget centred on ``at`` (design pixels) lands: its EXAMPLE
    size, snapped like a move, kept on the screen."""
    w, h = example_size(type_key)
    sw, sh = canvas.document.size
    x = min(max(0.0, at.x() - w / 2), max(0.0, sw - w))
    y = min(max(0.0, at.y() - h / 2), max(0.0, sh - h))
    if not snap:
        return snap_move((x, y, w, h), None, 1)
    targets = SnapTargets([canvas.entries[i].geometry for i in canvas.order], canvas.document.size)
    return snap_move((x, y, w, h), targets, canvas.grid_step, DEFAULT_THRESHOLD_PX / canvas.zoom)


def drag_over(canvas: DesignCanvas, event: QDragMoveEvent | QDragEnterEvent) -> None:
    """A palette drag entering or moving over the canvas: show where it would land."""
    key = type_key_of(event.mimeData())
    if key is None:
        event.ignore()
        return
    event.acceptProposedAction()
    snapped = placement(canvas, key, canvas.to_design(event.position()))
    old = canvas.drop_preview
    canvas.drop_preview = (snapped.geometry, snapped.guides)
    if old != canvas.drop_preview:
        canvas.update()


def drop(canvas: DesignCanvas, event: QDropEvent) -> None:
    """A palette entry dropped: add the widget where the preview showed it (one undo step)."""
    canvas.drop_preview = None
    key = type_key_of(event.mimeData())
    if key is None:
        event.ignore()
        canvas.update()
        return
    event.acceptProposedAction()
    canvas.add_widget(key, canvas.to_design(event.position()))
