"""Saved definitions and ad hoc requests as the trend view's specs: labels, colours, axes and
fixed ranges carried over, units taken from the tags, and 'Save as' refusing a bad name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hmi_app.core.datatypes import DataType
from hmi_app.core.project.history_model import HistorianConfig
from hmi_app.core.project.model import TagConfig
from hmi_app.core.project.trends_model import PenConfig, TrendDefinition
from hmi_app.core.tagsource import TagMeta
from hmi_app.shell.trend_specs import (
    definition_spec,
    gap_threshold,
    pens_definition,
    pens_spec,
    request_pens,
)
from screens.renderer import TrendRequest
from widgets.trends.spec import MAX_PENS, PALETTE

METAS = {
    "tank.level": TagMeta("tank.level", DataType.FLOAT32, "%", ".1f"),
    "filler.speed": TagMeta("filler.speed", DataType.FLOAT32, "bpm", ".0f"),
}


def test_a_definition_becomes_a_live_spec_with_the_tags_units() -> None:
    definition = TrendDefinition(
        name="tank",
        span=3600,
        pens=[
            PenConfig(tag="tank.level", label="Level", colour="#123456", y_min=0, y_max=100),
            PenConfig(tag="filler.speed", axis="speed"),
            PenConfig(tag="gone.tag"),
        ],
    )
    spec = definition_spec(definition, METAS.get)
    assert spec.title == "Tank" and spec.span == 3600 and spec.live
    level, speed, gone = spec.pens
    assert (level.tag, level.label, level.colour, level.units) == (
        "tank.level",
        "Level",
        "#123456",
        "%",
    )
    assert (level.y_min, level.y_max) == (0, 100)
    assert (speed.axis, speed.units, speed.colour) == ("speed", "bpm", "")
    assert gone.units == ""  # an unknown tag: drawn from history only, no units
    assert spec.colour_of(1) == PALETTE[0]  # no colour of its own: the palette's first free
    assert spec.axis_groups() == [[0], [1], [2]]


def test_a_request_keeps_its_colours_and_labels_and_at_most_the_view_s_pens() -> None:
    request = TrendRequest(
        "Speeds", ("filler.speed", "tank.level"), 600, ("#1f5fa8",), ("Filler", "tank.level")
    )
    pens = request_pens(request)
    assert pens == [
        PenConfig(tag="filler.speed", label="Filler", colour="#1f5fa8"),
        PenConfig(tag="tank.level"),  # a label equal to the tag adds nothing
    ]
    many = [PenConfig(tag=f"t.p{i}") for i in range(MAX_PENS + 2)]
    assert len(pens_spec("many", many, 60, METAS.get).pens) == MAX_PENS


def test_save_as_needs_a_file_name() -> None:
    pens = [PenConfig(tag="tank.level")]
    assert pens_definition("tank_2", "Tank", 600, pens).name == "tank_2"
    with pytest.raises(ValidationError, match="is not a trend name"):
        pens_definition("tank 2", "Tank", 600, pens)


def test_the_gap_threshold_follows_the_slowest_pens_recording_interval() -> None:
    historian = HistorianConfig(default_max_interval=60)
    configs = {
        "fast": TagConfig(name="fast", type=DataType.FLOAT32, history=True),
        "slow": TagConfig(name="slow", type=DataType.FLOAT32, history={"max_interval": 300}),
        "quick": TagConfig(name="quick", type=DataType.FLOAT32, history={"max_interval": 5}),
    }
    assert gap_threshold(["fast"], configs.get, historian) == 150  # 2.5 x the default 60 s
    assert gap_threshold(["fast", "slow"], configs.get, historian) == 750  # 2.5 x 300 s
    assert gap_threshold(["quick"], configs.get, historian) == 12.5  # recorded every 5 s
    assert gap_threshold(["quick", "fast"], configs.get, historian) == 150
    assert gap_threshold(["unknown"], configs.get, historian) == 150
    assert gap_threshold([], configs.get, historian) == 150
