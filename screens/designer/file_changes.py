"""Several files written as one change: each atomically with a backup, all put back if one fails.

Screen management (``screens.designer.screen_files``) renames a screen in its own file, in the
files that link to it and in ``project.yaml`` at once; a disk error half way must not leave a
project whose files disagree, so the files already written are restored from memory.
"""

from __future__ import annotations

from pathlib import Path

from hmi_app.core.atomic_file import write_atomic
from hmi_app.core.project.editing import backup_file

_BOM = "\ufeff".encode()


class ScreenFileError(Exception):
    """A screen command that was not done; the message says why (no file was changed)."""


class FileChanges:
    """Files to write (or delete) together, each with a backup; all put back if one fails."""

    def __init__(self) -> None:
        self.writes: dict[Path, bytes | None] = {}

    def write(self, path: Path, text: str) -> None:
        """Write ``text`` to ``path`` on commit."""
        self.writes[path] = text.encode("utf-8")

    def delete(self, path: Path) -> None:
        """Delete ``path`` on commit (its content goes to the backups)."""
        self.writes[path] = None

    def commit(self) -> None:
        """Do every write and delete; ScreenFileError (all put back) if one fails."""
        done: list[tuple[Path, bytes | None]] = []
        try:
            for path, data in self.writes.items():
                old = path.read_bytes() if path.exists() else None
                if data is not None and old is not None and old.startswith(_BOM):
                    data = _BOM + data
                if old == data:
                    continue
                if old is not None:
                    backup_file(path, old)
                if data is None:
                    path.unlink()
                else:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    write_atomic(path, data)
                done.append((path, old))
        except OSError as exc:
            failed = path.name
            for done_path, old in reversed(done):
                if old is None:
                    done_path.unlink(missing_ok=True)
                else:
                    write_atomic(done_path, old)
            raise ScreenFileError(f"{failed}: cannot be written: {exc}") from None
