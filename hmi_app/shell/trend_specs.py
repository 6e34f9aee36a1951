"""From what the user saved or asked for to what the trend view draws.

``definition_spec`` maps a saved trend definition (``trends/<name>.yaml``) onto the view's
``TrendSpec``, taking each pen's units from its tag; ``request_pens`` turns an ad hoc request (a
right-click, a click on an embedded trend) into pens, and ``pens_definition`` makes a definition
of the pens on screen for 'Save as'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hmi_app.core.project.history_model import HistorianConfig, TagHistory
from hmi_app.core.project.model import TagConfig
from hmi_app.core.project.trends_model import PenConfig, TrendDefinition
from hmi_app.core.tagsource import TagMeta
from screens.renderer import TrendRequest
from widgets.trends.spec import MAX_PENS, PenSpec, TrendSpec

MetaOf = Callable[[str], TagMeta | None]
DEFAULT_SPAN_S = 600.0
GAP_FACTOR = 2.5
"""A hole longer than this many of a pen's recording intervals is drawn as a gap (no data)."""


def gap_threshold(
    tags: Sequence[str], configs: Callable[[str], TagConfig | None], historian: HistorianConfig
) -> float:
    """The longest pause between stored samples of ``tags`` that is not a gap: the recorder
    writes each tag at least every ``max_interval`` seconds, so a longer silence means no data.
    Taken over the slowest pen (a pen recorded every 5 min must not look broken between its
    samples), ``GAP_FACTOR`` intervals; a tag without its own interval has the historian's."""
    def interval(tag: str) -> float:
        config = configs(tag)
        history = config.history if config is not None else None
        own = history.max_interval if isinstance(history, TagHistory) else None
        return own if own is not None else historian.default_max_interval

    slowest = max((interval(tag) for tag in tags), default=historian.default_max_interval)
    return GAP_FACTOR * slowest


def pen_spec(pen: PenConfig, meta_of: MetaOf) -> PenSpec:
    """One saved pen as the view draws it, with its tag's units."""
    meta = meta_of(pen.tag)
    return PenSpec(
        tag=pen.tag,
        label=pen.label,
        colour=pen.colour or "",
        axis=pen.axis or "",
        y_min=pen.y_min,
        y_max=pen.y_max,
        units=meta.units if meta is not None else "",
    )


def pens_spec(
    title: str, pens: Sequence[PenConfig], span: float, meta_of: MetaOf, *, live: bool = True
) -> TrendSpec:
    """A spec of ``pens`` (at most the view's maximum, the first ones)."""
    return TrendSpec(
        title=title, pens=tuple(pen_spec(p, meta_of) for p in pens[:MAX_PENS]), span=span, live=live
    )


def definition_spec(definition: TrendDefinition, meta_of: MetaOf) -> TrendSpec:
    """A saved definition as the view's spec, opening live on its span."""
    return pens_spec(definition.display_title, definition.pens, definition.span, meta_of)


def request_pens(request: TrendRequest) -> list[PenConfig]:
    """The pens of an ad hoc request, with the colours and labels it carries."""
    pens: list[PenConfig] = []
    for index, tag in enumerate(request.tags):
        colour = request.colours[index] if index < len(request.colours) else None
        label = request.labels[index] if index < len(request.labels) else ""
        pens.append(PenConfig(tag=tag, label=label if label != tag else "", colour=colour))
    return pens


def pens_definition(
    name: str, title: str, span: float, pens: Sequence[PenConfig]
) -> TrendDefinition:
    """A definition named ``name`` of the pens on screen (ValueError naming what is wrong)."""
    return TrendDefinition(name=name, title=title, span=span, pens=list(pens))
