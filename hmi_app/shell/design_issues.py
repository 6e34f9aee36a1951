"""The designer's issues panel: what the save check found, errors first; a double-click (or
Enter) on one with a widget jumps to that widget."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from screens.designer.entries import DesignIssue

_ROLE_WIDGET = Qt.ItemDataRole.UserRole
_ERROR = QColor("#a01d14")  # the header's alarm red, darker for text on white
_WARNING = QColor("#6b5200")  # amber, dark enough to read


class IssuesPanel(QWidget):
    """A list of ``DesignIssue`` (errors, then warnings) with a one-line summary above it."""

    jump_requested = Signal(str)
    """The id of the widget an issue names (double-click or Enter)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("designIssues")
        self.issues: list[DesignIssue] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        self.summary = QLabel("Not checked yet: Check or Save runs the check.")
        self.summary.setObjectName("issuesSummary")
        layout.addWidget(self.summary)
        self.list = QListWidget()
        self.list.setObjectName("issuesList")
        self.list.setAlternatingRowColors(True)
        self.list.setWordWrap(True)  # a long message (a close-match hint) reads in full
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemActivated.connect(self._activated)
        self.list.itemDoubleClicked.connect(self._activated)
        layout.addWidget(self.list, 1)

    def show_issues(self, issues: Sequence[DesignIssue]) -> None:
        """Replace the list: errors first, each located at its widget when it has one."""
        self.issues = sorted(issues, key=lambda i: (i.severity != "error", i.widget_id or ""))
        self.list.clear()
        for issue in self.issues:
            where = f"{issue.widget_id}: " if issue.widget_id else ""
            item = QListWidgetItem(f"{issue.severity.upper()}  {where}{issue.message}")
            item.setData(_ROLE_WIDGET, issue.widget_id)
            item.setForeground(QBrush(_ERROR if issue.severity == "error" else _WARNING))
            tip = issue.message
            if issue.widget_id:
                tip += "\nDouble-click to select the widget on the canvas"
            item.setToolTip(tip)
            self.list.addItem(item)
        errors = self.errors()
        warnings = len(self.issues) - len(errors)
        if not self.issues:
            self.summary.setText("No problems found.")
        else:
            self.summary.setText(
                f"{len(errors)} error{'s' if len(errors) != 1 else ''} (block saving), "
                f"{warnings} warning{'s' if warnings != 1 else ''}"
            )

    def errors(self) -> list[DesignIssue]:
        return [issue for issue in self.issues if issue.severity == "error"]

    def warnings(self) -> list[DesignIssue]:
        return [issue for issue in self.issues if issue.severity == "warning"]

    def row_of(self, widget_id: str) -> int:
        """The first row naming ``widget_id`` (-1: none)."""
        for row, issue in enumerate(self.issues):
            if issue.widget_id == widget_id:
                return row
        return -1

    def _activated(self, item: QListWidgetItem) -> None:
        widget_id = item.data(_ROLE_WIDGET)
        if widget_id:
            self.jump_requested.emit(str(widget_id))
