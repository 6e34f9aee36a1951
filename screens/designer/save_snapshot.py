"""A screen document frozen at one moment, checked and written on a worker thread.

The designer's Save takes a ``SaveSnapshot`` on the GUI thread (cheap: the text is already
built from immutable pieces), checks and writes it in a worker thread, and then has the
document mark itself saved (``ScreenDocument.mark_saved``) back on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from hmi_app.core.atomic_file import write_atomic
from hmi_app.core.project.editing import BACKUPS_KEPT, backup_file
from hmi_app.core.project.yamlio import ProjectIssue, YamlDocument
from hmi_app.core.tagsource import TagMeta
from screens.designer.entries import DesignIssue
from screens.designer.screen_text import DocumentError, ScreenText, changed_on_disk
from screens.designer.validation import validate_text


def disk_error(path: Path, reason: str) -> DocumentError:
    """Why a save did not overwrite ``path``: it changed on disk (``reason``)."""
    return DocumentError(
        [
            ProjectIssue(
                path.name,
                0,
                "",
                f"not saved: {reason}; reopen it to edit "
                "the new version (or save anyway to overwrite it)",
            )
        ]
    )


@dataclass(frozen=True)
class SaveSnapshot:
    """The document as it was at one moment, to check and write on a worker thread.

    Nothing here touches Qt or the live document: edits made meanwhile go on in the document,
    and ``ScreenDocument.mark_saved`` marks it clean only when none came in between.
    """

    path: Path
    state: ScreenText
    index: int
    """The undo stack's index when the snapshot was taken."""
    text: str
    on_disk: bytes | None
    """The file as the document had read or last written it (None: never read)."""

    def validate(
        self,
        tags: Mapping[str, TagMeta] | Collection[str] | None,
        screens: Collection[str] | None = None,
        others: Mapping[str, YamlDocument] | None = None,
    ) -> list[DesignIssue]:
        """``ScreenDocument.validate`` of this text (thread-safe)."""
        return validate_text(
            self.text,
            self.path.name,
            [item.entry for item in self.state.items],
            tags,
            screens,
            self.state.meta.name,
            others=others,
            key=self.path.stem,
        )

    def write(self, *, force: bool = False, backups_kept: int = BACKUPS_KEPT) -> bytes:
        """Write the text atomically with a backup of the previous file (thread-safe); the
        bytes written. DocumentError, nothing written, when the file changed on disk since the
        document read it, unless ``force``."""
        data = self.text.encode("utf-8")
        if not force:
            reason = changed_on_disk(self.path, self.on_disk)
            if reason is not None:
                raise disk_error(self.path, reason)
        if self.path.exists():
            previous = self.path.read_bytes()
            if previous != data:
                backup_file(self.path, previous, keep=backups_kept)
                write_atomic(self.path, data)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, data)
        return data
