"""The production and sync_targets sections: a valid file parses, each mistake is located."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from hmi_app.check import check_project, project_warnings
from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.project.production_model import ShiftCalendar, ShiftConfig, project_data_dir
from hmi_app.core.project.sync_targets import FileTarget, MqttTarget, RestTarget, SqlTarget

HEADER = """\
schema_version: 1
project: {name: Counting Test}
tags:
  - {name: l1.state, type: uint16}
  - {name: l1.running, type: bool}
  - {name: l1.good, type: uint32}
  - {name: l1.bad16, type: uint16}
  - {name: l1.signed16, type: int16}
  - {name: l1.speed, type: float32}
  - {name: l1.order, type: string, length: 20, access: read_write}
  - {name: l1.order_ro, type: string, length: 20}
"""
# the first line of the body below the header
BODY = HEADER.count("\n") + 1

VALID = """\
production:
  outbox_capacity: 50000
  shifts:
    timezone: Europe/Berlin
    shifts:
      - {name: early, start: "06:00", end: "14:00", weekdays: [mon, tue, wed, thu, fri]}
      - {name: late, start: "14:00", end: "22:00"}
      - {name: night, start: "22:00", end: "06:00"}
    planned_stops:
      - {name: lunch, start: "10:00", end: "10:30", weekdays: [mon, tue, wed, thu, fri]}
  lines:
    l1:
      run_tag: l1.state
      running_values: [1, 3]
      order_tag: l1.order
      products: {cola: 120.5}
      default_ideal_rate_per_min: 100
      downtime_reasons: {jam: Jam, other: Other}
      counters:
        - {name: good, tag: l1.good, kind: good}
        - {name: bad, tag: l1.bad16, kind: reject, width: 16, max_rate_per_s: 5}
sync_targets:
  drop: {kind: file, folder: drop}
  mes:
    kind: rest
    url: https://mes.example/api/counts
    token_env: MES_TOKEN
    batch_size: 50
  erp: {kind: sql, dsn: "host=127.0.0.1 dbname=test user=postgres", password_env: PGPASSWORD}
  uns: {kind: mqtt, host: 127.0.0.1, topic_root: acme/dortmund/bottling, enabled: false}
"""


def write(folder: Path, body: str) -> Path:
    (folder / "project.yaml").write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    return folder


def issues_of(folder: Path) -> list[str]:
    project, issues = check_project(folder)
    assert project is None, "the project should have been refused"
    return [str(issue) for issue in issues]


def test_valid_sections_parse_with_their_defaults(tmp_path: Path) -> None:
    project, issues = check_project(write(tmp_path, VALID))
    assert issues == []
    assert project is not None
    production = project.model.production
    assert production is not None
    assert production.outbox_capacity == 50_000
    assert production.database == "production.sqlite"
    calendar = production.shifts
    assert [s.name for s in calendar.shifts] == ["early", "late", "night"]
    assert calendar.shifts[0].weekdays == ["mon", "tue", "wed", "thu", "fri"]
    assert calendar.shifts[2].minutes == 8 * 60
    assert calendar.problems() == []
    line = production.lines["l1"]
    assert line.running_values == [1, 3]
    assert line.ideal_rate_per_min("cola") == 120.5
    assert line.ideal_rate_per_min("unknown") == 100
    assert line.ideal_rate_per_min(None) == 100
    good, bad = line.counters
    assert (good.width, good.signed, good.max_rate_per_s) == (32, False, 100.0)
    assert bad.value_range() == (0, 65535)
    assert bad.wrap_period_s == pytest.approx(65536 / 5)
    targets = project.model.sync_targets
    drop, mes, erp, uns = (targets[n] for n in ("drop", "mes", "erp", "uns"))
    assert isinstance(drop, FileTarget) and drop.formats == ["csv", "jsonl"]
    assert isinstance(mes, RestTarget) and mes.verify is True and mes.batch_size == 50
    assert isinstance(erp, SqlTarget) and erp.create_table and erp.table == "hmi_production"
    assert isinstance(uns, MqttTarget) and (uns.port, uns.qos, uns.enabled) == (1883, 1, False)
    assert drop.enabled and drop.max_tries == 5 and drop.backoff.initial_s == 1.0
    settings = erp.settings()
    assert settings["dsn"].startswith("host=") and "password" not in settings
    assert settings["password_env"] == "PGPASSWORD"


def test_paths_live_in_the_data_folder_unless_absolute(tmp_path: Path) -> None:
    project = load_project(write(tmp_path, VALID))
    assert project.model.production is not None
    data = project_data_dir("Counting Test", environ={"HMI_APP_DATA_DIR": str(tmp_path / "d")})
    assert data == tmp_path / "d" / "counting-test"
    assert project.model.production.database_path(data) == data / "production.sqlite"
    drop = project.model.sync_targets["drop"]
    assert isinstance(drop, FileTarget)
    assert drop.folder_path(data, "drop") == data / "drop"
    absolute = FileTarget(kind="file", folder=str(tmp_path / "out"))
    assert absolute.folder_path(data, "x") == tmp_path / "out"
    assert FileTarget(kind="file").folder_path(data, "x") == data / "sync" / "x"


def test_demo_counts_line1_into_a_file_drop() -> None:
    project, issues = check_project(demo_project_dir())
    assert issues == [] and project is not None
    production = project.model.production
    assert production is not None
    line = production.lines["line1"]
    assert {(c.tag, c.kind, c.width) for c in line.counters} == {
        ("line1.counts.good", "good", 32),
        ("line1.counts.reject", "reject", 32),
    }
    assert (line.run_tag, line.running_values, line.order_tag) == (
        "line1.state",
        [1],
        "line1.work_order",
    )
    assert [(s.start, s.end) for s in production.shifts.shifts] == [
        ("06:00", "14:00"),
        ("14:00", "22:00"),
        ("22:00", "06:00"),
    ]
    assert [s.minutes for s in production.shifts.planned_stops] == [30, 30, 30]
    assert set(line.downtime_reasons) == {"jam", "changeover", "material", "cleaning", "other"}
    drop = project.model.sync_targets["file_drop"]
    assert isinstance(drop, FileTarget) and drop.folder == "drop"
    assert project_warnings(project) == []


def _line(counters: str, extra: str = "") -> str:
    return f"""\
production:
  lines:
    l1:
      run_tag: l1.running
      default_ideal_rate_per_min: 100{extra}
      counters:
        - {counters}
sync_targets:
  drop: {{kind: file, folder: drop}}
"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            _line("{name: good, tag: l1.good, kind: good, colour: red}"),
            f"project.yaml:{BODY + 6}: production.lines.l1.counters[0].colour: is not a known"
            " field",
            id="unknown-key-in-counter",
        ),
        pytest.param(
            _line("{name: good, tag: l1.nothing, kind: good}"),
            f"project.yaml:{BODY + 6}: production.lines.l1.counters[0].tag: unknown tag"
            " 'l1.nothing'",
            id="unknown-counter-tag",
        ),
        pytest.param(
            _line("{name: good, tag: l1.bad16, kind: good, width: 32}"),
            f"project.yaml:{BODY + 6}: production.lines.l1.counters[0].tag: a 32-bit unsigned "
            "counter (0..4294967295) does not fit tag 'l1.bad16' (uint16, 0..65535)",
            id="counter-wider-than-tag",
        ),
        pytest.param(
            _line("{name: good, tag: l1.signed16, kind: good, width: 16}"),
            "counters[0].tag: a 16-bit unsigned counter (0..65535) does not fit tag 'l1.signed16'",
            id="unsigned-counter-in-signed-tag",
        ),
        pytest.param(
            _line(
                "{name: good, tag: l1.good, kind: good}\n        - {name: total, tag: l1.good,"
                " kind: total}"
            ),
            f"project.yaml:{BODY + 7}: production.lines.l1.counters[1].tag: tag 'l1.good' is"
            " counted already by l1.good: it would count twice",
            id="tag-counted-twice",
        ),
        pytest.param(
            _line("{name: good, tag: l1.speed, kind: good}"),
            "counters[0].tag: tag 'l1.speed' is float32: a counter needs an integer tag",
            id="float-counter-tag",
        ),
        pytest.param(
            _line("{name: good, tag: l1.good, kind: good, width: 24}"),
            "counters[0].width: Input should be 16 or 32",
            id="odd-width",
        ),
        pytest.param(
            _line("{name: bad, tag: l1.good, kind: reject}"),
            f"project.yaml:{BODY + 5}: production.lines.l1.counters: a line needs a good or a "
            "total counter",
            id="rejects-only",
        ),
        pytest.param(
            _line("{name: good, tag: l1.good, kind: good}", "\n      order_tag: l1.order_ro"),
            f"project.yaml:{BODY + 5}: production.lines.l1.order_tag: memory tag 'l1.order_ro' "
            "is read-only",
            id="read-only-order-tag",
        ),
        pytest.param(
            _line(
                "{name: good, tag: l1.good, kind: good}", "\n      running_values: [yes]"
            ).replace("l1.running", "l1.state"),
            f"project.yaml:{BODY + 5}: production.lines.l1.running_values[0]: 'yes' is not a "
            "value of run tag 'l1.state' (uint16)",
            id="running-value-misfit",
        ),
        pytest.param(
            _line("{name: good, tag: l1.good, kind: good}").replace("l1.running", "l1.state"),
            "production.lines.l1.running_values: run tag 'l1.state' is uint16: name the values",
            id="integer-run-tag-without-values",
        ),
        pytest.param(
            _line("{name: good, tag: l1.good, kind: good}").replace("l1.running", "l1.speed"),
            f"project.yaml:{BODY + 3}: production.lines.l1.run_tag: tag 'l1.speed' is float32",
            id="float-run-tag",
        ),
        pytest.param(
            _line("{name: good, tag: l1.good, kind: good}").replace(
                "      default_ideal_rate_per_min: 100", ""
            ),
            f"project.yaml:{BODY + 2}: production.lines.l1: performance needs an ideal rate",
            id="no-ideal-rate",
        ),
    ],
)
def test_line_mistakes_are_located(tmp_path: Path, body: str, expected: str) -> None:
    issues = issues_of(write(tmp_path, body))
    assert len(issues) == 1, issues
    assert expected in issues[0]


CALENDAR = """\
production:
  shifts:
    shifts:
{shifts}
  lines:
    l1:
      run_tag: l1.running
      default_ideal_rate_per_min: 100
      counters: [{{name: good, tag: l1.good, kind: good}}]
sync_targets: {{drop: {{kind: file, folder: drop}}}}
"""


@pytest.mark.parametrize(
    ("shifts", "expected"),
    [
        pytest.param(
            '      - {name: early, start: "6:00", end: "14:00"}',
            f"project.yaml:{BODY + 3}: production.shifts.shifts[0].start: '6:00' is not a time:"
            " write HH:MM",
            id="bad-time-format",
        ),
        pytest.param(
            '      - {name: early, start: "06:00", end: "25:00"}',
            "production.shifts.shifts[0].end: '25:00' is not a time of day",
            id="hour-out-of-range",
        ),
        pytest.param(
            '      - {name: early, start: "06:00", end: "06:00"}',
            "production.shifts.shifts[0]: 06:00 to 06:00 has no length",
            id="no-length",
        ),
        pytest.param(
            '      - {name: early, start: "06:00", end: "14:00"}\n'
            '      - {name: late, start: "13:30", end: "22:00"}',
            f"project.yaml:{BODY + 4}: production.shifts.shifts[1]: shift 'late' overlaps shift"
            " 'early' (mon 13:30)",
            id="overlapping-shifts",
        ),
        pytest.param(
            '      - {name: night, start: "22:00", end: "06:00"}\n'
            '      - {name: early, start: "05:00", end: "13:00", weekdays: [tue]}',
            "production.shifts.shifts[1]: shift 'early' overlaps shift 'night' (tue 05:00)",
            id="overlap-past-midnight",
        ),
        pytest.param(
            '      - {name: night, start: "22:00", end: "06:00", weekdays: [sun]}\n'
            '      - {name: early, start: "05:00", end: "13:00", weekdays: [mon]}',
            "shifts[1]: shift 'early' overlaps shift 'night' (mon 05:00)",
            id="overlap-across-the-week-end",
        ),
        pytest.param(
            '      - {name: early, start: "06:00", end: "14:00", weekdays: [monday]}',
            "production.shifts.shifts[0].weekdays[0]: Input should be 'mon'",
            id="bad-weekday",
        ),
        pytest.param(
            '      - {name: early, start: "06:00", end: "14:00"}\n'
            '      - {name: early, start: "14:00", end: "22:00"}',
            "production.shifts.shifts[1].name: shift 'early' is defined twice",
            id="duplicate-shift",
        ),
        pytest.param(
            '      - {name: unscheduled, start: "06:00", end: "14:00"}',
            "production.shifts.shifts[0].name: 'unscheduled' names the time between shifts",
            id="reserved-shift-name",
        ),
    ],
)
def test_shift_mistakes_are_located(tmp_path: Path, shifts: str, expected: str) -> None:
    issues = issues_of(write(tmp_path, CALENDAR.format(shifts=shifts)))
    assert len(issues) == 1, issues
    assert expected in issues[0]


def test_planned_stops_must_lie_in_a_shift_and_not_overlap() -> None:
    calendar = ShiftCalendar.model_validate(
        {
            "timezone": "UTC",
            "shifts": [{"name": "day", "start": "06:00", "end": "14:00"}],
            "planned_stops": [
                {"name": "lunch", "start": "10:00", "end": "10:30"},
                {"name": "meeting", "start": "10:15", "end": "10:45"},
                {"name": "late", "start": "13:45", "end": "14:15", "weekdays": ["fri"]},
            ],
        }
    )
    assert calendar.problems() == [
        (("planned_stops", 1), "planned stop 'meeting' overlaps planned stop 'lunch' (mon 10:15)"),
        (
            ("planned_stops", 2),
            "planned stop 'late' is outside every shift (fri 14:00); a stop counts only inside a"
            " shift",
        ),
    ]


def test_bad_timezone_is_named(tmp_path: Path) -> None:
    body = CALENDAR.format(shifts='      - {name: d, start: "06:00", end: "14:00"}').replace(
        "  shifts:\n", "  shifts:\n    timezone: Mars/Olympus\n", 1
    )
    issues = issues_of(write(tmp_path, body))
    assert issues == [
        f"project.yaml:{BODY + 2}: production.shifts.timezone: 'Mars/Olympus' is not a timezone:"
        " use an IANA name such as Europe/Berlin, or 'local'"
    ]


TARGET = """\
sync_targets:
  erp:
{keys}
"""


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        pytest.param(
            "    kind: ftp\n    host: x",
            f"project.yaml:{BODY + 2}: sync_targets.erp.kind: unknown kind 'ftp': use one of file,"
            " rest, sql, mqtt",
            id="bad-kind",
        ),
        pytest.param(
            "    folder: drop",
            f"project.yaml:{BODY + 1}: sync_targets.erp.kind: is required",
            id="missing-kind",
        ),
        pytest.param(
            "    kind: file\n    folder: drop\n    url: http://x",
            f"project.yaml:{BODY + 4}: sync_targets.erp.url: is not a known field",
            id="key-of-another-kind",
        ),
        pytest.param(
            "    kind: sql\n    dsn: host=db user=hmi\n    password: secret",
            f"project.yaml:{BODY + 4}: sync_targets.erp.password: a password is never written in"
            " the project: put it in an environment variable and name it with password_env",
            id="literal-password",
        ),
        pytest.param(
            "    kind: rest\n    url: https://mes/api\n    token: abc",
            f"project.yaml:{BODY + 4}: sync_targets.erp.token: a token is never written in the"
            " project: put it in an environment variable and name it with token_env",
            id="literal-token",
        ),
        pytest.param(
            "    kind: sql\n    dsn: host=db user=hmi password=secret",
            f"project.yaml:{BODY + 3}: sync_targets.erp.dsn: the dsn holds a password: remove it",
            id="password-in-key-value-dsn",
        ),
        pytest.param(
            "    kind: sql\n    dsn: postgresql://hmi:secret@db/mes",
            "sync_targets.erp.dsn: the dsn holds a password",
            id="password-in-uri-dsn",
        ),
        pytest.param(
            "    kind: rest\n    url: https://mes/api\n    username: hmi",
            f"project.yaml:{BODY + 1}: sync_targets.erp: user 'hmi' needs password_env or"
            " password_keyring",
            id="user-without-password",
        ),
        pytest.param(
            "    kind: rest\n    url: https://mes/api\n    token_env: T\n    username: u\n"
            "    password_env: P",
            "sync_targets.erp: use a token or a user name and password, not both",
            id="token-and-basic-auth",
        ),
        pytest.param(
            "    kind: rest\n    url: https://mes/api\n    headers: {Authorization: Bearer abc}",
            f"project.yaml:{BODY + 4}: sync_targets.erp.headers: header 'Authorization' carries a"
            " secret: use token_env",
            id="secret-in-a-header",
        ),
        pytest.param(
            "    kind: rest\n    url: https://hmi:secret@mes/api",
            "sync_targets.erp.url: a password is never written in the project",
            id="password-in-url",
        ),
        pytest.param(
            "    kind: rest\n    url: ftp://mes/api",
            "sync_targets.erp.url: 'ftp://mes/api' is not an http(s) URL",
            id="not-http",
        ),
        pytest.param(
            "    kind: mqtt\n    host: 127.0.0.1\n    topic_root: acme/+/bottling",
            f"project.yaml:{BODY + 4}: sync_targets.erp.topic_root: 'acme/+/bottling' is not a"
            " topic root",
            id="wildcard-topic",
        ),
        pytest.param(
            "    kind: mqtt\n    host: 127.0.0.1\n    topic_root: a/b\n    qos: 3",
            "sync_targets.erp.qos: Input should be 0, 1 or 2",
            id="bad-qos",
        ),
        pytest.param(
            "    kind: sql\n    dsn: host=db\n    password_keyring: nouser",
            "sync_targets.erp.password_keyring: 'nouser' is not a keyring entry",
            id="bad-keyring-entry",
        ),
        pytest.param(
            "    kind: file\n    folder: drop\n    backoff: {initial_s: 10, max_s: 5}",
            "sync_targets.erp.backoff: max_s 5.0 is below initial_s 10.0",
            id="backoff-order",
        ),
    ],
)
def test_sync_target_mistakes_are_located(tmp_path: Path, keys: str, expected: str) -> None:
    issues = issues_of(write(tmp_path, TARGET.format(keys=keys)))
    assert len(issues) == 1, issues
    assert expected in issues[0]


def test_no_sync_target_is_a_warning_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    body = VALID[: VALID.index("sync_targets:")]
    with caplog.at_level(logging.WARNING, logger="hmi_app.check"):
        project, issues = check_project(write(tmp_path, body))
    assert issues == [] and project is not None
    warnings = [str(w) for w in project_warnings(project)]
    assert warnings == [
        f"project.yaml:{BODY}: production: no sync_targets: counts are kept in the outbox but"
        " sent nowhere (add e.g. `sync_targets: {file_drop: {kind: file, folder: drop}}`)"
    ]
    assert warnings[0] in caplog.text


def test_all_targets_disabled_is_a_warning(tmp_path: Path) -> None:
    body = VALID.replace("{kind: file, folder: drop}", "{kind: file, folder: drop, enabled: no}")
    body = body.replace("    batch_size: 50", "    batch_size: 50\n    enabled: false")
    body = body.replace("password_env: PGPASSWORD}", "password_env: PGPASSWORD, enabled: false}")
    project = load_project(write(tmp_path, body))
    assert [w.message for w in project_warnings(project)] == [
        "every sync target is disabled: counts are kept in the outbox but sent nowhere"
    ]


def test_a_whole_day_shift_is_00_00_to_24_00() -> None:
    whole = ShiftConfig.model_validate({"name": "day", "start": "00:00", "end": "24:00"})
    assert whole.minutes == 24 * 60
    calendar = ShiftCalendar.model_validate({"shifts": [whole.model_dump()]})
    assert calendar.problems() == []
