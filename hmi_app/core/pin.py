"""The design-mode PIN: a salted scrypt hash kept in the project, and the lockout after misses.

The stored form describes itself, ``scrypt$N$r$p$<salt>$<hash>`` (salt and hash in base64
without padding), so a later change of cost parameters still verifies PINs set before it.
scrypt comes with the standard library (``hashlib.scrypt``, OpenSSL): no new dependency, and it
is memory-hard, which is what the OWASP password storage guide asks of a password hash; the
default cost is its recommended minimum (N=2**17, r=8, p=1: 128 MiB, about 0.3 s).

What the hash does and does not do: it keeps the PIN itself out of ``project.yaml`` (someone
reading the file, a backup or a support e-mail does not learn it). A 4-digit PIN has only 10,000
values, so whoever can copy the file can still find it offline in hours; the lockout
(``PinGate``) only slows guessing at the panel. It is a guard against operators wandering into
design mode, not a login; user accounts will replace it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from hmi_app.core.atomic_file import write_atomic

SCHEME = "scrypt"
DEFAULT_N = 2**17
DEFAULT_R = 8
DEFAULT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
MAX_N = 2**20
"""Highest N accepted from a file: a hand-edited ``scrypt$2**30$...`` must not eat the memory."""
MIN_PIN_LENGTH = 4
MAX_PIN_LENGTH = 64
MAX_ATTEMPTS = 3
LOCKOUT_S = 30.0


class PinError(ValueError):
    """A PIN or a stored hash that cannot be used; the message says why, for the user."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # OpenSSL needs room for 128 * N * r bytes plus a little; ask for twice that
    return hashlib.scrypt(
        pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=256 * n * r + 2**20
    )


def check_pin_text(pin: str) -> None:
    """Raise PinError when ``pin`` is too short, too long or has spaces or control characters."""
    if len(pin) < MIN_PIN_LENGTH:
        raise PinError(f"the PIN needs at least {MIN_PIN_LENGTH} characters")
    if len(pin) > MAX_PIN_LENGTH:
        raise PinError(f"the PIN has more than {MAX_PIN_LENGTH} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in pin):
        raise PinError("the PIN may not contain spaces or control characters")


def hash_pin(pin: str, *, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P) -> str:
    """The stored form of ``pin`` with a fresh random salt (PinError for an unusable PIN)."""
    check_pin_text(pin)
    salt = os.urandom(SALT_BYTES)
    digest = _scrypt(pin, salt, n, r, p, HASH_BYTES)
    return f"{SCHEME}${n}${r}${p}${_b64(salt)}${_b64(digest)}"


@dataclass(frozen=True)
class PinHash:
    """A parsed stored hash."""

    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes


def parse_pin_hash(stored: str) -> PinHash:
    """Split ``scrypt$N$r$p$salt$hash``; PinError saying what is wrong with it."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise PinError(
            "is not a PIN hash of the form scrypt$N$r$p$salt$hash (set it with `hmi-app set-pin`)"
        )
    try:
        n, r, p = (int(part) for part in parts[1:4])
    except ValueError:
        raise PinError("the scrypt parameters N, r and p must be whole numbers") from None
    if n < 2 or n & (n - 1) or n > MAX_N:
        raise PinError(f"scrypt N must be a power of two from 2 to {MAX_N} (got {n})")
    if not (1 <= r <= 64 and 1 <= p <= 16):
        raise PinError(f"scrypt r must be 1..64 and p 1..16 (got r={r}, p={p})")
    try:
        salt, digest = _unb64(parts[4]), _unb64(parts[5])
    except (binascii.Error, ValueError):
        raise PinError("salt and hash must be base64") from None
    if len(salt) < 8 or len(digest) < 16:
        raise PinError("salt or hash is too short")
    return PinHash(n, r, p, salt, digest)


def verify_pin(pin: str, stored: str) -> bool:
    """Whether ``pin`` is the PIN ``stored`` was made from (compared in constant time).

    PinError when ``stored`` is not a valid hash: a broken setting must be told, not taken for a
    wrong PIN.
    """
    parsed = parse_pin_hash(stored)
    if not pin or len(pin) > MAX_PIN_LENGTH:
        return False
    digest = _scrypt(pin, parsed.salt, parsed.n, parsed.r, parsed.p, len(parsed.digest))
    return hmac.compare_digest(digest, parsed.digest)


class Verdict(Enum):
    """What the gate said to one attempt."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    LOCKED = "locked"


class PinGate:
    """Checks PIN attempts against one stored hash; ``MAX_ATTEMPTS`` misses in a row lock it for
    ``LOCKOUT_S`` seconds (attempts meanwhile are not even checked). A right PIN resets the count.

    One gate per running app, so closing and reopening the PIN dialog does not reset it. With a
    ``state_file`` the misses and the lockout also survive a restart of the app (else guessing
    would only cost a restart every three tries): the file holds the count and the wall-clock
    end of the lockout; a lockout read back never lasts longer than ``lockout_s`` from now (a
    clock set back must not lock design mode for good), and an unreadable file is ignored.
    """

    def __init__(
        self,
        stored: str,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        lockout_s: float = LOCKOUT_S,
        clock: Callable[[], float] = time.monotonic,
        state_file: Path | None = None,
        wall_clock: Callable[[], float] = time.time,
        current_hash: Callable[[], str | None] | None = None,
    ) -> None:
        parse_pin_hash(stored)  # a broken hash is reported now, not at the first attempt
        self.stored = stored
        self.max_attempts = max_attempts
        self.lockout_s = lockout_s
        self._clock = clock
        self._wall = wall_clock
        self.state_file = state_file
        self.current_hash = current_hash
        """Reads the stored hash again before each check (None from it: keep the one held)."""
        self._misses = 0
        self._locked_until = 0.0
        self._load()

    def _load(self) -> None:
        if self.state_file is None:
            return
        try:
            state = json.loads(self.state_file.read_text(encoding="utf-8"))
            misses, until = int(state["misses"]), float(state["locked_until"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        self._misses = min(max(misses, 0), self.max_attempts - 1)
        remaining = min(max(until - self._wall(), 0.0), self.lockout_s)
        if remaining > 0:
            self._locked_until = self._clock() + remaining

    def _save(self) -> None:
        if self.state_file is None:
            return
        until = self._wall() + self.locked_for() if self.locked_for() > 0 else 0.0
        data = json.dumps({"misses": self._misses, "locked_until": until})
        try:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.state_file, data.encode("utf-8"))
        except OSError:
            pass  # the in-memory gate still counts; a read-only data folder must not break it

    @property
    def misses(self) -> int:
        """Wrong PINs since the last right one or the last lockout."""
        return self._misses

    def locked_for(self) -> float:
        """Seconds until attempts are checked again (0 when not locked)."""
        return max(0.0, self._locked_until - self._clock())

    def attempts_left(self) -> int:
        return self.max_attempts - self._misses

    def attempt(self, pin: str) -> Verdict:
        """Check ``pin`` (blocking for the hash's cost, about 0.3 s: call it off the GUI
        thread)."""
        if self.locked_for() > 0:
            return Verdict.LOCKED
        if self.current_hash is not None:
            self.stored = self.current_hash() or self.stored
        if verify_pin(pin, self.stored):
            self._misses = 0
            self._save()  # a clean slate on disk too (it may still hold an ended lockout)
            return Verdict.ACCEPTED
        self._misses += 1
        if self._misses >= self.max_attempts:
            self._misses = 0
            self._locked_until = self._clock() + self.lockout_s
            self._save()
            return Verdict.LOCKED
        self._save()
        return Verdict.REFUSED
