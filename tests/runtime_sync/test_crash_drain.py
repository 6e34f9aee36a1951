"""SIGKILL during a 10,000-record drain, 20 times: the receiver ends with exactly the 10,000 keys.

The runtime side is a separate process (``drain_process``) that fills its outbox once and drains
it to a deduping HTTP receiver in this process. It is killed at random moments after it opened
the database (during the fill and during the drain) and started again each time, then left to
finish. Nothing may be lost; a record may reach the receiver twice only when a kill fell between
the receiver's accept and the local confirm (the receiver counts those re-sends).
"""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.runtime_sync.drain_process import record
from tests.support.http_receiver import HttpReceiver

REPO = Path(__file__).resolve().parents[2]
RECORDS = 10_000
KILLS = 20
BATCH = 10  # small batches: the drain lasts a few seconds, so the kills land inside it


def _start(db: Path, url: str) -> subprocess.Popen[str]:
    args = ["--count", str(RECORDS), "--batch", str(BATCH)]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.runtime_sync.drain_process", str(db), url, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _wait_for_line(proc: subprocess.Popen[str], expected: str, within: float) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.05)
        if ready:
            line = proc.stdout.readline()
            if line.strip() == expected:
                return
            if line == "":
                raise AssertionError(f"drain process ended (rc {proc.wait()}) before {expected}")
    raise AssertionError(f"drain process did not print {expected!r} within {within} s")


def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    db = tmp_path / "outbox.db"
    started = time.monotonic()
    progress_at_kill: list[int] = []
    with HttpReceiver() as rx:
        for _ in range(KILLS):
            proc = _start(db, rx.url)
            try:
                _wait_for_line(proc, "ready", 15.0)
                time.sleep(rng.uniform(0.0, 0.25))
                assert proc.poll() is None, (
                    f"the drain finished before kill {len(progress_at_kill) + 1}"
                )
                proc.send_signal(signal.SIGKILL)
                assert proc.wait(10.0) == -signal.SIGKILL
                progress_at_kill.append(rx.stats()[0])
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                if proc.stdout is not None:
                    proc.stdout.close()
        proc = _start(db, rx.url)  # finally let it finish
        try:
            assert proc.wait(60.0) == 0
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
        stored, requests, resent = rx.stats()
        keys = rx.stored_keys()
    duration = time.monotonic() - started
    print(
        f"\ncrash drain (seed {seed}): {KILLS} SIGKILLs; records at the receiver at each kill:"
        f" {progress_at_kill}; in the end {stored} of {RECORDS}, {requests} requests,"
        f" {resent} records re-sent"
        f" (deduped by the receiver), {duration:.1f} s"
    )
    assert keys == {record(i).key for i in range(RECORDS)}  # exactly the 10,000, none lost
    during_drain = [n for n in progress_at_kill if 0 < n < RECORDS]
    assert len(during_drain) >= KILLS // 2, f"too few kills landed inside the drain (seed {seed})"
    # a kill can only cost the batch in flight: at most one batch re-sent per kill
    assert resent <= KILLS * BATCH
    with sqlite3.connect(db) as conn:  # the outbox is empty and the file is sound
        assert conn.execute("SELECT count(*) FROM outbox_records").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM outbox_delivery").fetchone()[0] == 0
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
