"""Production counters: raw PLC count values in, booked deltas out (pure logic, no I/O).

A PLC count tag only goes up, wraps at its width (16 or 32 bit, signed or not) and is reset now and
then. :class:`CounterTracker` turns the values of one such tag into :class:`Delta` records, each
the production between two good readings. The rules:

- **Modulo the width.** Deltas are ``(new - old) mod 2**bits``, so a delta is never negative and
  never a full-range jump (at most ``2**bits - 1``).
- **Wrap or reset.** A drop (the new value below the old on the width's own number line, so
  ``32767 -> -32768`` is a drop for a signed 16-bit counter and ``-1 -> 0`` is not) is a *wrap*
  when the old value lies in the top ``wrap_window`` of the range and the new one in the bottom
  ``wrap_window`` (default 10 % each), and, when ``max_rate_per_s`` is known, the counts the wrap
  implies fit the elapsed time. Any other drop is a *reset*: the delta is the new value (the
  counter restarted at 0 and counted up to it), and the reset is logged.
- **Plausible rate.** With ``max_rate_per_s`` known, a rise larger than the machine can have made
  since the last good reading (``rate x elapsed x 1.1 + 1``) is a reset when the new value itself
  fits (a signed counter reset while negative: ``-30000 -> 5``), else it is booked flagged
  uncertain.
- **Baseline only.** The first good value of a counter with no saved baseline, or after a
  resubscription to a different tag or width, only sets the baseline.
- **Recovered.** After a gap in observation (a link outage, BAD/STALE/UNCERTAIN values, a restart
  with a saved baseline, a resubscription to the same tag), the first good value books the delta
  from the baseline, flagged ``recovered``: counts made while nobody watched are not lost.
- **Uncertain, not guessed.** A recovered delta whose gap lasted longer than one wrap period
  (``2**bits / max_rate_per_s``; every gap when the rate is unknown) is booked with the modulo
  delta (what is known for sure, the least the machine made) and flagged ``uncertain``; a reset
  found after a gap is flagged uncertain too (the counts before the reset are unknown). Nothing is
  invented: an uncertain delta says "at least this much, look at it".
- **Only GOOD moves the baseline.** BAD, STALE and UNCERTAIN values are ignored (they open a gap),
  and so are values that are not integers or lie outside the width. A good value older than the
  last good one is ignored: a replayed reading must not count twice. If the device clock was set
  back, the baseline waits until the clock passes the last good time, then books everything.

The tracker's state (:class:`CounterState`) is a small frozen dataclass that round-trips through
JSON (``to_dict``/``from_dict``), so the caller saves it in the same SQLite transaction as the
outbox record of the delta: after a crash either both are saved or neither.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import Any, Literal

from hmi_app.core.quality import Quality, TagValue

log = logging.getLogger(__name__)

DeltaKind = Literal["count", "wrap", "reset"]
DEFAULT_WRAP_WINDOW = 0.1
RATE_MARGIN = 1.1  # timestamps jitter: allow 10 % over the machine's top rate ...
RATE_SLACK = 1  # ... and one count, so a count landing exactly on a sample is not "too fast"
CLOCK_WARNING_S = 60.0  # an older good value is a replay; this much older, the clock was set back


@dataclass(frozen=True, slots=True)
class CounterWidth:
    """The width of a PLC counter: ``bits`` (16 or 32) and whether it is signed."""

    bits: int = 32
    signed: bool = False

    def __post_init__(self) -> None:
        if self.bits not in (16, 32):
            raise ValueError(f"a counter is 16 or 32 bits wide, not {self.bits}")

    @property
    def modulus(self) -> int:
        """Number of distinct values: deltas are computed modulo this."""
        return 1 << self.bits

    @property
    def minimum(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def maximum(self) -> int:
        return self.minimum + self.modulus - 1

    def contains(self, raw: int) -> bool:
        return self.minimum <= raw <= self.maximum

    def position(self, raw: int) -> int:
        """Where ``raw`` lies on the counter's own number line, 0 (minimum) to modulus - 1."""
        return raw - self.minimum

    def wrap(self, value: int) -> int:
        """The raw value the counter shows after counting to ``value`` (two's complement)."""
        return (value - self.minimum) % self.modulus + self.minimum

    def __str__(self) -> str:
        return f"{'int' if self.signed else 'uint'}{self.bits}"


@dataclass(frozen=True, slots=True)
class Delta:
    """Production booked from one counter between two good readings.

    ``amount`` is never negative and below the width's modulus. ``kind`` says how it was read:
    ``count`` (the counter rose), ``wrap`` (it passed its maximum) or ``reset`` (it restarted;
    the amount is the new value). ``recovered``: booked after a gap in observation (the counts
    were made while the link was down). ``uncertain``: the amount is the least that was made, not
    necessarily all of it (``note`` says why).
    """

    amount: int
    kind: DeltaKind
    from_value: int
    to_value: int
    from_ts: float
    to_ts: float
    recovered: bool = False
    uncertain: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class CounterState:
    """What a tracker must remember across restarts; save it with the delta it produced.

    ``baseline`` is the last good value (the point the next delta starts from), first seen at
    ``baseline_ts`` and last confirmed at ``last_good_ts``. ``gap``: values were missed since
    (outage, bad quality); the next delta is booked as recovered.
    """

    tag: str
    bits: int
    signed: bool
    baseline: int | None = None
    baseline_ts: float | None = None
    last_good_ts: float | None = None
    gap: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "tag": self.tag,
            "bits": self.bits,
            "signed": self.signed,
            "baseline": self.baseline,
            "baseline_ts": self.baseline_ts,
            "last_good_ts": self.last_good_ts,
            "gap": self.gap,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CounterState:
        """Inverse of :meth:`to_dict`; ValueError naming the field when it does not fit."""
        try:
            tag, bits, signed = data["tag"], data["bits"], data["signed"]
        except KeyError as exc:
            raise ValueError(f"counter state lacks {exc.args[0]!r}") from None
        if not isinstance(tag, str) or type(bits) is not int or not isinstance(signed, bool):
            raise ValueError(f"counter state has a bad tag, bits or signed: {data!r}")
        baseline = data.get("baseline")
        if baseline is not None and type(baseline) is not int:
            raise ValueError(f"counter state baseline {baseline!r} is not an integer")
        return cls(
            tag=tag,
            bits=bits,
            signed=signed,
            baseline=baseline,
            baseline_ts=_opt_float(data.get("baseline_ts"), "baseline_ts"),
            last_good_ts=_opt_float(data.get("last_good_ts"), "last_good_ts"),
            gap=bool(data.get("gap", False)),
        )


def _opt_float(value: object, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"counter state {field} {value!r} is not a number")
    return float(value)


class CounterTracker:
    """Turns the values of one PLC count tag into deltas (see the module docstring for the rules).

    Feed it every value of the tag (:meth:`update` or :meth:`feed`), tell it when the link drops
    (:meth:`link_down`) and when the subscription is renewed (:meth:`resubscribed`). After each
    call, :attr:`state` is what to save together with the returned delta.
    """

    def __init__(
        self,
        tag: str,
        width: CounterWidth,
        *,
        max_rate_per_s: float | None = None,
        wrap_window: float = DEFAULT_WRAP_WINDOW,
        state: CounterState | None = None,
        name: str | None = None,
    ) -> None:
        if not 0 < wrap_window <= 0.5:
            raise ValueError(
                f"wrap_window is a share of the range above 0 and up to 0.5, not {wrap_window}"
            )
        if max_rate_per_s is not None and not max_rate_per_s > 0:
            raise ValueError(f"max_rate_per_s must be above 0, not {max_rate_per_s}")
        self.name = name or tag
        self.max_rate_per_s = max_rate_per_s
        self.wrap_window = wrap_window
        self.width = width
        self._top, self._bottom = self._windows(width)
        self._clock_warned = False
        fresh = CounterState(tag=tag, bits=width.bits, signed=width.signed)
        if state is None:
            self._state = fresh
        elif (state.tag, state.bits, state.signed) != (tag, width.bits, width.signed):
            log.warning(
                "counter %s: saved baseline was for %s (%s bits%s), now %s (%s): discarded",
                self.name,
                state.tag,
                state.bits,
                " signed" if state.signed else "",
                tag,
                width,
            )
            self._state = fresh
        elif state.baseline is not None and not width.contains(state.baseline):
            log.warning(
                "counter %s: saved baseline %s outside %s: discarded",
                self.name,
                state.baseline,
                width,
            )
            self._state = fresh
        else:
            # a restart is a gap: whatever was counted while we were down is booked as recovered
            self._state = replace(state, gap=state.baseline is not None)

    @property
    def state(self) -> CounterState:
        return self._state

    @property
    def wrap_period_s(self) -> float | None:
        """Seconds the counter needs at its top rate to go once round its range (None: unknown)."""
        if self.max_rate_per_s is None:
            return None
        return self.width.modulus / self.max_rate_per_s

    # ---- events ----------------------------------------------------------------------------
    def link_down(self, ts: float) -> None:
        """The link to the PLC dropped at ``ts``: the next good value is booked as recovered.

        The length of the gap is measured from the last good value, not from ``ts``: counts made
        between that value and the drop were not seen either.
        """
        if self._state.baseline is not None and not self._state.gap:
            log.debug(
                "counter %s: link down at %.3f, baseline %s", self.name, ts, self._state.baseline
            )
            self._state = replace(self._state, gap=True)

    def restore(self, state: CounterState) -> None:
        """Go back to ``state`` (the last one saved) when saving a delta failed: the next value
        books again what that delta held, so nothing is lost and nothing counted twice."""
        if (state.tag, state.bits, state.signed) != (
            self._state.tag,
            self.width.bits,
            self.width.signed,
        ):
            raise ValueError(f"counter {self.name}: state of {state.tag} ({state.bits} bits)")
        self._state = state

    def resubscribed(self, tag: str | None = None, width: CounterWidth | None = None) -> None:
        """The subscription was renewed, maybe to another tag or width.

        The same tag and width: a gap like a reconnect (the next value books what was missed).
        Another tag or width: the old baseline means nothing; the next value only sets the new one.
        """
        tag = self._state.tag if tag is None else tag
        width = self.width if width is None else width
        if tag != self._state.tag or width != self.width:
            log.info("counter %s: now %s (%s): next value sets the baseline", self.name, tag, width)
            self.width = width
            self._top, self._bottom = self._windows(width)
            self._state = CounterState(tag=tag, bits=width.bits, signed=width.signed)
        else:
            self.link_down(self._state.last_good_ts or 0.0)

    def _windows(self, width: CounterWidth) -> tuple[int, int]:
        """First position of the top wrap window, and the end of the bottom one (exclusive)."""
        top = math.ceil(width.modulus * (1 - self.wrap_window))
        return top, math.floor(width.modulus * self.wrap_window)

    # ---- values ----------------------------------------------------------------------------
    def feed(self, value: TagValue) -> Delta | None:
        """:meth:`update` with a :class:`TagValue`."""
        return self.update(value.value, value.quality, value.source_ts)

    def update(self, value: object, quality: Quality, source_ts: float) -> Delta | None:
        """One value of the tag; the production it books, or None when there is nothing to book."""
        st = self._state
        if quality is not Quality.GOOD:
            if st.baseline is not None and not st.gap:
                self._state = replace(st, gap=True)
            return None
        raw = self._integer(value)
        if raw is None:
            if st.baseline is not None and not st.gap:
                self._state = replace(st, gap=True)
            return None
        if st.baseline is None or st.last_good_ts is None or st.baseline_ts is None:
            self._state = replace(
                st, baseline=raw, baseline_ts=source_ts, last_good_ts=source_ts, gap=False
            )
            log.info("counter %s: baseline %d", self.name, raw)
            return None
        if source_ts == st.last_good_ts and raw == st.baseline:
            return None  # the same reading again: says nothing about now, so a gap stays open
        if source_ts < st.last_good_ts:
            # a replay of an older reading must not move the baseline back (that would count
            # twice); if the clock was set back, the baseline waits and nothing is lost
            if st.last_good_ts - source_ts > CLOCK_WARNING_S and not self._clock_warned:
                self._clock_warned = True
                log.warning(
                    "counter %s: values %.0f s older than the last one are ignored until the"
                    " device time passes it (clock set back?)",
                    self.name,
                    st.last_good_ts - source_ts,
                )
            return None
        if raw == st.baseline:
            if st.gap and self._gap_too_long(source_ts - st.last_good_ts):
                delta = self._delta(0, "count", raw, source_ts, uncertain=True)
                self._advance(raw, source_ts, moved=False)
                return replace(delta, note=self._long_gap_note(source_ts - st.last_good_ts))
            self._advance(raw, source_ts, moved=False)
            return None
        delta = self._classify(st.baseline, raw, source_ts - st.last_good_ts, source_ts)
        self._advance(raw, source_ts, moved=True)
        if delta.kind == "reset":
            log.warning(
                "counter %s reset: %d -> %d, booked %d%s",
                self.name,
                delta.from_value,
                delta.to_value,
                delta.amount,
                " (uncertain: " + delta.note + ")" if delta.uncertain else "",
            )
        return delta

    # ---- internals -------------------------------------------------------------------------
    def _integer(self, value: object) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            raw = value
        elif isinstance(value, float) and value.is_integer():
            raw = int(value)
        else:
            log.debug("counter %s: %r is not a count: ignored", self.name, value)
            return None
        if not self.width.contains(raw):
            log.warning("counter %s: %d is outside %s: ignored", self.name, raw, self.width)
            return None
        return raw

    def _allowance(self, elapsed: float) -> float | None:
        if self.max_rate_per_s is None:
            return None
        return self.max_rate_per_s * max(elapsed, 0.0) * RATE_MARGIN + RATE_SLACK

    def _gap_too_long(self, elapsed: float) -> bool:
        period = self.wrap_period_s
        # at exactly one period the counter may have gone once round and look unchanged
        return period is None or elapsed >= period

    def _long_gap_note(self, elapsed: float) -> str:
        period = self.wrap_period_s
        if period is None:
            return f"{elapsed:.0f} s unseen and no max rate: wraps in between cannot be excluded"
        return f"{elapsed:.0f} s unseen, longer than one wrap period ({period:.0f} s)"

    def _classify(self, old: int, new: int, elapsed: float, ts: float) -> Delta:
        width = self.width
        old_pos, new_pos = width.position(old), width.position(new)
        forward = (new_pos - old_pos) % width.modulus
        allowance = self._allowance(elapsed)
        gap = self._state.gap
        if new_pos > old_pos:
            if allowance is not None and forward > allowance:
                if 0 <= new <= allowance:
                    note = "reset while unseen: the counts before it are unknown" if gap else ""
                    return self._delta(new, "reset", new, ts, uncertain=gap, note=note)
                return self._delta(
                    forward,
                    "count",
                    new,
                    ts,
                    uncertain=True,
                    note=f"rose {forward} in {elapsed:.3f} s, more than {self.max_rate_per_s}/s",
                )
            return self._gap_checked(self._delta(forward, "count", new, ts), elapsed)
        wrap = old_pos >= self._top and new_pos < self._bottom
        if wrap and allowance is not None and forward > allowance:
            wrap = False
        if wrap:
            return self._gap_checked(self._delta(forward, "wrap", new, ts), elapsed)
        if new >= 0:
            amount, note = new, ""
        else:
            amount, note = 0, f"dropped to {new}, below zero: not a reset to 0"
        if gap:
            note = note or "reset while unseen: the counts before it are unknown"
        return self._delta(amount, "reset", new, ts, uncertain=bool(note), note=note)

    def _gap_checked(self, delta: Delta, elapsed: float) -> Delta:
        if self._state.gap and self._gap_too_long(elapsed):
            return replace(delta, uncertain=True, note=self._long_gap_note(elapsed))
        return delta

    def _delta(
        self,
        amount: int,
        kind: DeltaKind,
        new: int,
        ts: float,
        *,
        uncertain: bool = False,
        note: str = "",
    ) -> Delta:
        st = self._state
        assert st.baseline is not None and st.last_good_ts is not None
        return Delta(
            amount=amount,
            kind=kind,
            from_value=st.baseline,
            to_value=new,
            from_ts=st.last_good_ts,
            to_ts=ts,
            recovered=st.gap,
            uncertain=uncertain,
            note=note,
        )

    def _advance(self, raw: int, ts: float, *, moved: bool) -> None:
        st = self._state
        baseline_ts = ts if moved else st.baseline_ts
        self._clock_warned = False
        self._state = replace(st, baseline=raw, baseline_ts=baseline_ts, last_good_ts=ts, gap=False)
