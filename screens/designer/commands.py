"""The designer's undo commands: each holds the screen text before and after one edit.

A ``ScreenText`` shares its untouched chunks with the previous one, so keeping both states costs a
tuple of references; undo puts the exact earlier state (and so the exact bytes) back. Consecutive
moves of the same widgets merge into one command (a drag, or a run of arrow-key nudges, is one
undo step) until the document says the gesture ended (``ScreenDocument.break_merge``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from screens.designer.screen_text import ScreenText

MOVE_COMMAND_ID = 7001
MERGE_WINDOW_S = 1.5
"""Moves of the same widgets further apart than this are separate undo steps."""

Apply = Callable[[ScreenText], None]


class EditCommand(QUndoCommand):
    """One edit of a screen document, undone by restoring the state it started from."""

    def __init__(
        self,
        apply: Apply,
        before: ScreenText,
        after: ScreenText,
        text: str,
        merge_key: tuple[str, frozenset[str]] | None = None,
    ) -> None:
        super().__init__(text)
        self._apply = apply
        self.before = before
        self.after = after
        self.merge_key = merge_key
        self.stamp = time.monotonic()
        self.mergeable = merge_key is not None

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)

    def id(self) -> int:
        return MOVE_COMMAND_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if (
            not isinstance(other, EditCommand)
            or not self.mergeable
            or other.merge_key != self.merge_key
            or other.before is not self.after
            or other.stamp - self.stamp > MERGE_WINDOW_S
        ):
            return False
        self.after = other.after
        self.stamp = other.stamp
        if self.after.text() == self.before.text():
            self.setObsolete(True)  # moved back to where it started: nothing to undo
        return True
