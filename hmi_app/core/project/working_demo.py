"""The demo as ``hmi-app run`` runs it: a working copy in the user's data folder.

The shipped demo (``resources/demo``) lives inside the installed package, which may be read-only
and is replaced by every upgrade; the designer, the tag editor and ``set-pin`` must not write
there. So the first ``hmi-app run`` (or ``make run``) copies it to ``<data dir>/demo-project``
and runs the copy: a new user can try design mode and save straight away, and their edits stay.

The copy remembers a fingerprint of the files it was made from (``.shipped``). When a newer app
ships a different demo, a copy nobody has changed is replaced by the new one; a copy with edits
is kept as it is (delete the folder to get the new demo).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from hmi_app.core.project.loader import demo_project_dir
from hmi_app.core.project.production_model import data_dir

log = logging.getLogger(__name__)

WORKING_DEMO = "demo-project"
MARKER = ".shipped"
_SKIPPED = {MARKER, ".backups"}


def working_demo_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the working copy of the demo is (it may not exist yet)."""
    return data_dir(environ) / WORKING_DEMO


def fingerprint(folder: Path) -> str:
    """A digest of every file's path and bytes below ``folder`` (backups and marker aside)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or _SKIPPED & set(relative.parts) or "__pycache__" in relative.parts:
            continue
        digest.update(relative.as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def prepare_working_demo(
    environ: Mapping[str, str] | None = None, shipped: Path | None = None
) -> Path:
    """The working copy of the demo, made (or refreshed when unchanged and outdated) first.
    Raises OSError when it cannot be written (the caller falls back to the shipped demo)."""
    source = shipped if shipped is not None else demo_project_dir()
    target = working_demo_dir(environ)
    wanted = fingerprint(source)
    if target.is_dir():
        try:
            made_from = (target / MARKER).read_text(encoding="utf-8").strip()
        except OSError:
            made_from = ""
        if made_from == wanted:
            return target
        if not made_from or fingerprint(target) != made_from:
            log.info("demo working copy %s has edits: kept (delete it for the new demo)", target)
            return target
        log.info("demo working copy %s is unchanged and outdated: replaced", target)
    _copy(source, target, wanted)
    return target


def _copy(source: Path, target: Path, made_from: str) -> None:
    """Copy ``source`` to ``target`` as a whole: a half-made copy is never left in its place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=target.parent))
    try:
        copy = staging / "demo"
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", ".backups"))
        (copy / MARKER).write_text(made_from + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        copy.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
