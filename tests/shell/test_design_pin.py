"""The design-mode PIN: hashed with scrypt (self-describing, salted), verified in constant time,
three misses lock for 30 s, a broken hash is reported with its line, and ``hmi-app set-pin``
writes the hash into project.yaml changing nothing else (atomic, with a backup)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from hmi_app.cli import main
from hmi_app.core.pin import (
    DEFAULT_N,
    MAX_N,
    PinError,
    PinGate,
    Verdict,
    hash_pin,
    parse_pin_hash,
    verify_pin,
)
from hmi_app.core.project.loader import demo_project_dir, load_project, read_project
from hmi_app.pin_cli import PinSaveError, splice_pin_hash

FAST = {"n": 2**10}  # cheap cost for the tests that are not about the cost


def test_the_stored_form_describes_itself_and_uses_a_fresh_salt() -> None:
    stored = hash_pin("1234")
    scheme, n, r, p, _salt, _digest = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", DEFAULT_N, 8, 1)
    parsed = parse_pin_hash(stored)
    assert len(parsed.salt) == 16 and len(parsed.digest) == 32
    assert "1234" not in stored
    assert verify_pin("1234", stored)
    assert not verify_pin("1235", stored)
    again = hash_pin("1234", **FAST)
    assert again.split("$")[4] != hash_pin("1234", **FAST).split("$")[4]  # salted per hash


def test_a_hash_made_with_other_costs_still_verifies() -> None:
    stored = hash_pin("2468", n=2**12, r=4, p=2)
    assert stored.startswith("scrypt$4096$4$2$")
    assert verify_pin("2468", stored)
    assert not verify_pin("", stored)
    assert not verify_pin("2468" * 20, stored)


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ("1234", "is not a PIN hash"),
        ("bcrypt$1$2$3$4$5", "is not a PIN hash"),
        ("scrypt$x$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "whole numbers"),
        ("scrypt$1000$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "power of two"),
        (f"scrypt${MAX_N * 2}$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "power of two"),
        ("scrypt$1024$99$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "r must be"),
        ("scrypt$1024$8$1$!!$AAAAAAAAAAAAAAAAAAAAAA", "base64"),
        ("scrypt$1024$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA", "too short"),
    ],
)
def test_a_broken_hash_says_what_is_wrong(stored: str, message: str) -> None:
    with pytest.raises(PinError, match=message):
        verify_pin("1234", stored)


@pytest.mark.parametrize(("pin", "message"), [("12", "at least 4"), ("12 34", "spaces")])
def test_an_unusable_pin_is_refused(pin: str, message: str) -> None:
    with pytest.raises(PinError, match=message):
        hash_pin(pin, **FAST)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_three_misses_lock_for_thirty_seconds_then_the_right_pin_opens() -> None:
    clock = Clock()
    gate = PinGate(hash_pin("1234", **FAST), clock=clock)
    assert gate.attempt("0000") is Verdict.REFUSED
    assert gate.attempts_left() == 2
    assert gate.attempt("1111") is Verdict.REFUSED
    assert gate.attempt("2222") is Verdict.LOCKED
    assert gate.locked_for() == pytest.approx(30.0)
    # locked: even the right PIN is not checked
    clock.now += 29.0
    assert gate.attempt("1234") is Verdict.LOCKED
    clock.now += 1.5
    assert gate.locked_for() == 0.0
    assert gate.attempts_left() == 3
    assert gate.attempt("1234") is Verdict.ACCEPTED


def test_a_right_pin_resets_the_count() -> None:
    gate = PinGate(hash_pin("1234", **FAST), clock=Clock())
    assert gate.attempt("0000") is Verdict.REFUSED
    assert gate.attempt("0001") is Verdict.REFUSED
    assert gate.attempt("1234") is Verdict.ACCEPTED
    assert gate.attempt("0002") is Verdict.REFUSED
    assert gate.attempts_left() == 2


def test_misses_and_the_lockout_survive_a_restart_through_the_state_file(tmp_path: Path) -> None:
    stored = hash_pin("1234", **FAST)
    state = tmp_path / "data" / "design_pin_lockout.json"  # its folder does not exist yet
    wall, monotonic = Clock(), Clock()

    def restart() -> PinGate:  # a new app: a new gate, a monotonic clock that starts afresh
        monotonic.now = 5.0
        return PinGate(stored, clock=monotonic, wall_clock=wall, state_file=state)

    gate = restart()
    assert gate.attempt("0000") is Verdict.REFUSED
    assert gate.attempt("1111") is Verdict.REFUSED
    gate = restart()  # two misses counted: one more locks
    assert gate.attempts_left() == 1
    assert gate.attempt("2222") is Verdict.LOCKED
    wall.now += 10.0
    gate = restart()
    assert gate.locked_for() == pytest.approx(20.0)  # still locked, for what was left
    assert gate.attempt("1234") is Verdict.LOCKED
    wall.now += 20.5
    gate = restart()
    assert gate.locked_for() == 0.0 and gate.attempts_left() == 3
    assert gate.attempt("0000") is Verdict.REFUSED
    assert gate.attempt("1234") is Verdict.ACCEPTED
    assert json.loads(state.read_text(encoding="utf-8")) == {"misses": 0, "locked_until": 0.0}
    assert restart().attempts_left() == 3


@pytest.mark.parametrize(
    "content",
    ['{"misses": 1, "locked_until": 99999999999}', "not json", '{"misses": "x"}', "[]"],
)
def test_a_state_file_never_locks_longer_than_the_lockout_and_a_broken_one_is_ignored(
    tmp_path: Path, content: str
) -> None:
    state = tmp_path / "design_pin_lockout.json"
    state.write_text(content, encoding="utf-8")
    gate = PinGate(hash_pin("1234", **FAST), clock=Clock(), wall_clock=Clock(), state_file=state)
    assert gate.locked_for() <= 30.0  # a clock set back cannot lock design mode for good
    if gate.locked_for() == 0:
        assert gate.attempt("1234") is Verdict.ACCEPTED


def test_the_demo_pin_is_1234() -> None:
    project = load_project(demo_project_dir())
    assert project.model.designer.enabled
    assert verify_pin("1234", project.model.designer.pin_hash)


def _copy_demo(tmp_path: Path) -> Path:
    folder = tmp_path / "plant"
    shutil.copytree(demo_project_dir(), folder, ignore=shutil.ignore_patterns(".backups"))
    return folder


def test_a_malformed_hash_in_the_project_is_reported_with_its_line(tmp_path: Path) -> None:
    folder = _copy_demo(tmp_path)
    path = folder / "project.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index('pin_hash: "') + len('pin_hash: "')
    path.write_text(text[:start] + "oops" + text[start:], encoding="utf-8")
    line = text[:start].count("\n") + 1
    _project, issues = read_project(folder)
    assert [(i.line, i.path) for i in issues] == [(line, "designer.pin_hash")]
    assert "scrypt$N$r$p$salt$hash" in issues[0].message


def _without_designer(text: str) -> str:
    return text[: text.index("# ---- design mode")]


def test_set_pin_from_stdin_changes_only_the_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy_demo(tmp_path)
    path = folder / "project.yaml"
    before = path.read_text(encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("7391\n"))
    assert main(["set-pin", str(folder), "--stdin"]) == 0
    after = path.read_text(encoding="utf-8")
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert len(changed) == 1 and changed[0][0].strip().startswith("pin_hash:")
    stored = load_project(folder).model.designer.pin_hash
    assert verify_pin("7391", stored) and not verify_pin("1234", stored)
    (backup,) = (folder / ".backups").iterdir()
    assert backup.read_text(encoding="utf-8") == before
    assert "design-mode PIN set" in capsys.readouterr().out


def test_set_pin_appends_a_section_to_a_project_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _copy_demo(tmp_path)
    path = folder / "project.yaml"
    plain = _without_designer(path.read_text(encoding="utf-8"))
    path.write_text(plain, encoding="utf-8")
    assert not load_project(folder).model.designer.enabled
    monkeypatch.setattr("getpass.getpass", lambda _prompt="": "5555")
    assert main(["set-pin", str(folder)]) == 0
    text = path.read_text(encoding="utf-8")
    assert text.startswith(plain)
    assert verify_pin("5555", load_project(folder).model.designer.pin_hash)


def test_set_pin_refuses_two_different_pins_and_the_builtin_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy_demo(tmp_path)
    before = (folder / "project.yaml").read_bytes()
    answers = iter(["5555", "5556"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt="": next(answers))
    assert main(["set-pin", str(folder)]) == 1
    assert "the two PINs differ" in capsys.readouterr().err
    assert (folder / "project.yaml").read_bytes() == before
    assert not (folder / ".backups").exists()
    monkeypatch.setattr("sys.stdin", io.StringIO("9999\n"))
    assert main(["set-pin", "demo", "--stdin"]) == 2
    assert "read-only" in capsys.readouterr().err


def test_the_splice_keeps_comments_and_refuses_what_it_cannot_keep() -> None:
    stored = hash_pin("1234", **FAST)
    text = "a: 1  # one\ndesigner:   # who designs\n  # the hash\n  pin_hash: old  # set-pin\n"
    assert splice_pin_hash(text, stored) == (
        f'a: 1  # one\ndesigner:   # who designs\n  # the hash\n  pin_hash: "{stored}"  # set-pin\n'
    )
    assert splice_pin_hash("designer:\nb: 2\n", stored) == (
        f'designer: {{pin_hash: "{stored}"}}\nb: 2\n'
    )
    with pytest.raises(PinSaveError, match="more than pin_hash"):
        splice_pin_hash("designer:\n  pin_hash: x\n  other: 1\n", stored)
    with pytest.raises(PinSaveError, match="YAML syntax"):
        splice_pin_hash("a: [1\n", stored)
