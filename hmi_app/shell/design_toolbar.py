"""The designer's toolbar: undo and redo, align and distribute, z-order, group, grid and snap,
zoom, Preview, Check, Save and Tags…; each action works on the open canvas and document."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QSpinBox, QToolBar, QWidget

from hmi_app.shell.design_icons import SIZE, tool_icon
from screens.designer.align import AlignHow, DistributeAxis, Where
from screens.designer.canvas import DesignCanvas
from screens.designer.document import ScreenDocument

if TYPE_CHECKING:
    from hmi_app.shell.design_window import DesignerWindow

ZOOMS = (0.25, 0.33, 0.5, 0.67, 0.75, 0.9, 1.0, 1.25, 1.5, 2.0, 3.0)
GRID_STEP = 8

_ALIGN: tuple[tuple[str, AlignHow], ...] = (
    ("Align left edges", "left"),
    ("Align centres on a vertical line", "hcenter"),
    ("Align right edges", "right"),
    ("Align top edges", "top"),
    ("Align middles on a horizontal line", "vcenter"),
    ("Align bottom edges", "bottom"),
)


class DesignToolbar(QToolBar):
    """Words for commands, small painted icons for the geometric ones; grouped by separators."""

    def __init__(self, window: DesignerWindow) -> None:
        super().__init__("Design")
        self.setObjectName("designToolbar")
        self.setMovable(False)
        self.setIconSize(QSize(SIZE, SIZE))
        # icon only where there is one; a command without an icon shows its word
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.window_ = window
        self.canvas: DesignCanvas | None = None
        self.document: ScreenDocument | None = None
        self.actions_by_name: dict[str, QAction] = {}
        self._editing: list[QAction] = []
        # what a supervisor needs most comes first: save, check, preview
        self._add(
            "save",
            "Save",
            "Check, then save: operators see it at once",
            window.save,
            QKeySequence.StandardKey.Save,
        )
        self._add("check", "Check", "List what would stop or worry a save", window.check_soon)
        self.preview = self._add(
            "preview", "Preview", "Run this screen on live values", self._preview, "F5"
        )
        self.preview.setCheckable(True)
        self.addSeparator()
        self.undo = self._add(
            "undo", "Undo", "Undo the last edit", self._undo, QKeySequence.StandardKey.Undo
        )
        self.redo = self._add("redo", "Redo", "Redo", self._redo, QKeySequence.StandardKey.Redo)
        self.addSeparator()
        for tip, how in _ALIGN:
            self._add(f"align_{how}", "", tip, self._aligner(how), icon=how, edit=True)
        spreads: tuple[tuple[DistributeAxis, str], ...] = (
            ("h", "Distribute horizontally"),
            ("v", "Distribute vertically"),
        )
        for axis, tip in spreads:
            self._add(f"distribute_{axis}", "", tip, self._spreader(axis), icon=axis, edit=True)
        self._add("front", "", "Bring to front", self._restacker("front"), icon="front", edit=True)
        self._add("back", "", "Send to back", self._restacker("back"), icon="back", edit=True)
        self._add("group", "Group", "Group the selected widgets", self._grouper(True), edit=True)
        self._add("ungroup", "Ungroup", "Ungroup the selection", self._grouper(False), edit=True)
        self.addSeparator()
        self.grid = self._add("grid", "Grid", "Show the grid", self._grid_changed, edit=True)
        self.grid.setCheckable(True)
        self.grid.setChecked(True)
        self.snap = self._add(
            "snap",
            "Snap",
            "Snap to the grid and to neighbours (Alt: off)",
            self._grid_changed,
            edit=True,
        )
        self.snap.setCheckable(True)
        self.snap.setChecked(True)
        self.step = QSpinBox()
        self.step.setObjectName("gridStep")
        self.step.setRange(2, 64)
        self.step.setValue(GRID_STEP)
        self.step.setSuffix(" px")
        self.step.setToolTip("Grid step (design pixels)")
        self.step.valueChanged.connect(self._grid_changed)
        self.addWidget(self.step)
        self.addSeparator()
        self._add(
            "zoom_out", "−", "Zoom out", lambda: self._zoom(-1), QKeySequence.StandardKey.ZoomOut
        )
        self.zoom_label = _caption("100 %")
        self.zoom_label.setObjectName("zoomLabel")
        self.zoom_label.setMinimumWidth(48)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.addWidget(self.zoom_label)
        self._add("zoom_in", "+", "Zoom in", lambda: self._zoom(1), QKeySequence.StandardKey.ZoomIn)
        self._add("zoom_fit", "Fit", "Show the whole screen", self.fit, "Ctrl+0")
        self.addSeparator()
        self._add("tags", "Tags…", "The tag editor: tags and connections", window.open_tag_editor)

    def _add(
        self,
        name: str,
        text: str,
        tip: str,
        slot: Callable[[], object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        *,
        icon: str = "",
        edit: bool = False,
    ) -> QAction:
        action = QAction(text or tip, self)
        action.setObjectName(f"design_{name}")
        if icon:
            action.setIcon(tool_icon(icon))
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            tip = f"{tip} ({QKeySequence(shortcut).toString()})"
        action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        self.actions_by_name[name] = action
        if edit:
            self._editing.append(action)
        return action

    def _canvas_call(self, call: Callable[[DesignCanvas], object]) -> Callable[[], None]:
        def run() -> None:
            if self.canvas is not None:
                call(self.canvas)

        return run

    def _aligner(self, how: AlignHow) -> Callable[[], None]:
        return self._canvas_call(lambda canvas: canvas.align(how))

    def _spreader(self, axis: DistributeAxis) -> Callable[[], None]:
        return self._canvas_call(lambda canvas: canvas.distribute(axis))

    def _restacker(self, where: Where) -> Callable[[], None]:
        return self._canvas_call(lambda canvas: canvas.restack(where))

    def _grouper(self, group: bool) -> Callable[[], None]:
        if group:
            return self._canvas_call(lambda canvas: canvas.group_selected())
        return self._canvas_call(lambda canvas: canvas.ungroup_selected())

    def attach(self, canvas: DesignCanvas, document: ScreenDocument) -> None:
        """Work on ``canvas`` and ``document`` (a screen was opened)."""
        self.canvas, self.document = canvas, document
        stack = document.undo_stack
        stack.canUndoChanged.connect(self.undo.setEnabled)
        stack.canRedoChanged.connect(self.redo.setEnabled)
        self.undo.setEnabled(stack.canUndo())
        self.redo.setEnabled(stack.canRedo())
        canvas.zoom_changed.connect(self._zoomed)
        canvas.installEventFilter(self)  # fitting changes the zoom on every resize, silently
        self._grid_changed()
        self._zoomed(canvas.zoom)

    def set_editing(self, on: bool) -> None:
        """Editing (actions, inspector, palette, screen list) is off while the preview runs."""
        for action in (*self._editing, self.undo, self.redo):
            action.setEnabled(on)
        for panel in (self.window_.inspector, self.window_.widget_palette, self.window_.screens):
            panel.setEnabled(on)
        if on and self.document is not None:
            self.undo.setEnabled(self.document.undo_stack.canUndo())
            self.redo.setEnabled(self.document.undo_stack.canRedo())

    def _undo(self) -> None:
        if self.document is not None and not self.preview.isChecked():
            self.document.undo_stack.undo()

    def _redo(self) -> None:
        if self.document is not None and not self.preview.isChecked():
            self.document.undo_stack.redo()

    def _grid_changed(self, *_: object) -> None:
        if self.canvas is not None:
            self.canvas.set_grid(self.step.value(), self.grid.isChecked(), self.snap.isChecked())

    def _zoom(self, direction: int) -> None:
        if self.canvas is None:
            return
        current = self.canvas.zoom
        if direction > 0:
            target = next((z for z in ZOOMS if z > current + 1e-3), ZOOMS[-1])
        else:
            target = next((z for z in reversed(ZOOMS) if z < current - 1e-3), ZOOMS[0])
        self.set_zoom(target)

    def set_zoom(self, factor: float) -> None:
        """Zoom the canvas to ``factor`` (it stops following the window's size)."""
        if self.canvas is not None:
            self.canvas.set_zoom(factor)

    def fit(self) -> None:
        """Show the whole screen, following the window's size."""
        if self.canvas is not None:
            self.canvas.fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self._show_zoom)
        return False

    def _show_zoom(self) -> None:
        if self.canvas is not None and shiboken6.isValid(self.canvas):
            self._zoomed(self.canvas.zoom)

    def _zoomed(self, factor: float) -> None:
        self.zoom_label.setText(f"{round(factor * 100)} %")

    def _preview(self) -> None:
        self.window_.set_preview(self.preview.isChecked())


def _caption(text: str, parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    label.setContentsMargins(8, 0, 4, 0)
    label.setStyleSheet("color: #4d4d4d;")
    return label
