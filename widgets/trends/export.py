"""Writing what a trend shows to files: CSV of the samples, PNG of the picture.

CSV is the **long** format, one row per stored sample::

    tag,time,value,quality
    line.flow,2026-11-22 05:07:42.000,64.5,good

Long rather than one column per pen because pens are sampled at different times (a wide table
would be mostly empty cells, or invented values) and because every value keeps its own quality.
Rows are in time order across pens; ``time`` is the local time of the PC with milliseconds,
``YYYY-MM-DD HH:MM:SS.fff``, a form LibreOffice and Excel both read as a date-time; ``value`` is
empty when there was none (bad quality); ``quality`` is a word (good, uncertain, stale, bad).
The file is UTF-8 with a byte-order mark, so Excel shows non-ASCII tag names right. A pivot
table turns it into one column per tag.

Both writers run in a worker thread (``asyncio.to_thread``): a week of eight pens is millions of
rows, and the GUI thread never waits on a disk.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage, QImageWriter
from PySide6.QtWidgets import QFileDialog, QWidget

from hmi_app.core.history import FloatArray, HistoryError, HistorySource, QualityArray
from widgets.trends.pens import PenData, quality_label

log = logging.getLogger(__name__)

CSV_HEADER = ("tag", "time", "value", "quality")


@dataclass(frozen=True, slots=True)
class PenSamples:
    """The samples of one pen in the exported range."""

    tag: str
    ts: FloatArray
    value: FloatArray
    quality: QualityArray


def write_csv(path: Path, pens: Sequence[PenSamples]) -> int:
    """Write the samples of ``pens`` merged in time order; the number of rows written."""
    tags = np.concatenate([np.full(len(p.ts), i, dtype=np.int32) for i, p in enumerate(pens)])
    ts = np.concatenate([p.ts for p in pens]) if pens else np.empty(0)
    value = np.concatenate([p.value for p in pens]) if pens else np.empty(0)
    quality = np.concatenate([p.quality for p in pens]) if pens else np.empty(0, np.uint8)
    order = np.lexsort((tags, ts))  # by time, then by pen
    names = [p.tag for p in pens]
    labels = {code: quality_label(code) for code in range(4)}
    second_text: dict[int, str] = {}  # one strftime per second, not per row
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_HEADER)
        for i in order.tolist():
            t = float(ts[i])
            whole = int(t // 1)
            stamp = second_text.get(whole)
            if stamp is None:
                stamp = second_text[whole] = datetime.fromtimestamp(whole).strftime(
                    "%Y-%m-%d %H:%M:%S"
                )
            millis = min(999, round((t - whole) * 1000))
            v = float(value[i])
            q = int(quality[i])
            writer.writerow(
                (
                    names[int(tags[i])],
                    f"{stamp}.{millis:03d}",
                    "" if v != v else repr(v),
                    labels.get(q, quality_label(q)),
                )
            )
    tmp.replace(path)
    return int(order.shape[0])


def write_png(path: Path, image: QImage) -> None:
    """Save a grabbed image as PNG (OSError when it cannot be written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = QImageWriter(str(path), b"png")
    if not writer.write(image):
        raise OSError(f"could not write the image to {path}: {writer.errorString()}")


async def pen_samples(
    pen: PenData, history: HistorySource | None, start: float, end: float
) -> PenSamples:
    """A pen's samples in ``[start, end)``: stored ones (raw, every sample) before the live
    buffer's first sample, live ones after; only live ones without a historian."""
    cut = pen.cut()
    parts = []
    if history is not None and cut > start:
        try:
            raw = await history.raw(pen.spec.tag, start, min(end, cut))
            parts.append((raw.ts, raw.value, raw.quality))
        except HistoryError as exc:
            log.info("export of %s without history: %s", pen.spec.tag, exc)
    parts.append(pen.live_samples(start if history is None else max(start, cut), end))
    ts, value, quality = (np.concatenate([p[k] for p in parts]) for k in range(3))
    return PenSamples(pen.spec.tag, ts, value, quality.astype(np.uint8))


def save_dialog(parent: QWidget, kind: str, title: str, directory: Path) -> QFileDialog:
    """A non-modal save dialog (never ``exec()``: asyncio runs on the Qt loop) proposing
    ``<title>-<YYYYmmdd-HHMM>.<kind>`` in ``directory``; the caller connects and opens it."""
    what = "CSV" if kind == "csv" else "PNG"
    dialog = QFileDialog(parent, f"Export the visible range to {what}")
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setNameFilters([f"{what} (*.{kind})"])
    dialog.setDefaultSuffix(kind)
    dialog.setDirectory(str(directory))
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", title).strip("-") or "trend"
    dialog.selectFile(f"{slug}-{stamp}.{kind}")
    return dialog
