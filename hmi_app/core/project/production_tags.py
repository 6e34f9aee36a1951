"""The tags the production service publishes, derived from the ``production:`` section.

Memory tags per line (``<line>.production.good``, ``.hourly_good``, ``.oee``, ...) that screens
bind like any tag; ``ProjectModel.runtime_tags`` adds them to the project's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hmi_app.core.project.production_model import UNSCHEDULED, ProductionConfig

if TYPE_CHECKING:
    from hmi_app.core.project.model import TagConfig


PRODUCTION_TAG_PART = "production"
HOURS_PER_SHIFT_TAG = 24  # length of the hourly_good array (index 0 = the shift's first hour)
SHIFT_TEXT_LENGTH = 32
REASON_CODE_LENGTH = 32
ORDER_TEXT_LENGTH = 64
KPI_TAGS = ("availability", "performance", "quality", "oee")
COUNT_TAGS = ("good", "reject", "total")


def line_tag_prefix(line: str) -> str:
    """``<line>.production`` (a ``-`` in the line name becomes ``_``: tag names have no ``-``)."""
    return f"{line.replace('-', '_')}.{PRODUCTION_TAG_PART}"


def production_tag(line: str, what: str) -> str:
    """The name of derived tag ``what`` of ``line`` (e.g. ``line1.production.oee``)."""
    return f"{line_tag_prefix(line)}.{what}"


def derived_tag_specs(line: str) -> list[dict[str, Any]]:
    """The memory tags the production service publishes for ``line``, as TagConfig fields.

    The contract with the screens (docs: ISSUE 5 "Phase 2 contracts"): shift name, counts of the
    current shift, good per hour, the ISO 22400 KPIs, downtime and the order and product.
    """

    def tag(what: str, description: str, **fields: Any) -> dict[str, Any]:
        return {"name": production_tag(line, what), "description": description, **fields}

    specs = [
        tag(
            "shift",
            f"current shift of {line} ('{UNSCHEDULED}' between shifts)",
            type="string",
            length=SHIFT_TEXT_LENGTH,
        )
    ]
    for kind in COUNT_TAGS:
        specs.append(
            tag(kind, f"{kind} count of {line} in the current shift", type="uint32", format="d")
        )
    specs.append(
        tag(
            "hourly_good",
            f"good count of {line} per hour of the current shift (index 0 = its first hour)",
            type="uint32",
            array_length=HOURS_PER_SHIFT_TAG,
        )
    )
    for kpi in KPI_TAGS:
        specs.append(
            tag(
                kpi,
                f"ISO 22400 {kpi} of {line} in the current shift so far (bad while undefined)",
                type="float64",
                format=".1%",
            )
        )
    specs += [
        tag("downtime_active", f"{line} is stopped (unplanned) now", type="bool"),
        tag(
            "downtime_minutes",
            f"unplanned downtime of {line} in the current shift",
            type="float64",
            format=".0f",
            units="min",
        ),
        tag(
            "downtime_reason",
            f"reason code of the current (or last unassigned) downtime event of {line}: write "
            "a configured code to book it",
            type="string",
            length=REASON_CODE_LENGTH,
            access="read_write",
        ),
        tag("order", f"current work order of {line}", type="string", length=ORDER_TEXT_LENGTH),
        tag("product", f"current product of {line}", type="string", length=ORDER_TEXT_LENGTH),
    ]
    return specs


def derived_tag_configs(production: ProductionConfig) -> list[TagConfig]:
    """Every line's derived memory tags as ``TagConfig`` objects (see :func:`derived_tag_specs`)."""
    from hmi_app.core.project.model import TagConfig  # here: model.py imports this module

    return [
        TagConfig.model_validate(spec)
        for line in production.lines
        for spec in derived_tag_specs(line)
    ]
