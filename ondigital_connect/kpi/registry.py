"""The metric registry: every KPI once, with its formula over base measures and what follows.

Supported dimensions, additivity and the measures a metric reads are derived from the formula,
so they cannot disagree with it. Labels, descriptions, basis and traps are written for a
marketing reader; ``docs/kpis.md`` is generated from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from ondigital_connect.errors import ConfigError, QueryError
from ondigital_connect.kpi.formula import Formula, parse
from ondigital_connect.kpi.measures import MEASURES, ROLLUPS, Measure

SemanticType = Literal["currency", "percent", "number", "ratio"]
Direction = Literal["higher", "lower"]


@dataclass(frozen=True, slots=True)
class Metric:
    """One KPI. ``basis`` names the revenue basis and refund timing it inherits."""

    id: str
    label: str
    description: str
    semantic_type: SemanticType
    formula: Formula
    basis: str = ""
    trap: str = ""
    better: Direction | None = "higher"
    group: str = "Sales"
    measures: tuple[Measure, ...] = field(init=False)
    dimensions: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        unknown = [m for m in self.formula.measures if m not in MEASURES]
        if unknown:
            raise ConfigError(f"metric {self.id}: unknown measures {', '.join(unknown)}")
        measures = tuple(MEASURES[m] for m in self.formula.measures)
        object.__setattr__(self, "measures", measures)
        shared = [d for d in ROLLUPS[measures[0].rollup].dimensions
                  if all(d in ROLLUPS[m.rollup].dimensions for m in measures)]
        object.__setattr__(self, "dimensions", tuple(shared))

    @property
    def additivity(self) -> str:
        """``ratio``, ``distinct`` or ``semi_additive`` (recompute) or ``additive`` (sum)."""
        if self.formula.is_ratio:
            return "ratio"
        kinds = {m.additivity for m in self.measures}
        for kind in ("distinct", "semi_additive"):
            if kind in kinds:
                return kind
        return "additive"

    @property
    def rollups(self) -> tuple[str, ...]:
        """The rollups the metric reads, in formula order."""
        return tuple(dict.fromkeys(m.rollup for m in self.measures))

    def check_dimensions(self, dimensions: Iterable[str]) -> None:
        """QueryError naming the dimension this metric cannot be broken down by."""
        for dim in dimensions:
            if dim not in self.dimensions:
                raise QueryError(
                    f"metric {self.id!r} cannot be broken down by {dim!r}: it reads "
                    f"{' and '.join(self.rollups)} data, which go by "
                    f"{', '.join(self.dimensions)}")


class MetricRegistry:
    """Metrics by id, in the order they were registered."""

    def __init__(self, metrics: Iterable[Metric] = ()) -> None:
        self._metrics: dict[str, Metric] = {}
        for metric in metrics:
            self.add(metric)

    def add(self, metric: Metric) -> None:
        """Register ``metric``; ConfigError when its id is taken."""
        if metric.id in self._metrics:
            raise ConfigError(f"metric {metric.id!r} is registered twice")
        self._metrics[metric.id] = metric

    def get(self, metric_id: str) -> Metric:
        """The metric with this id; QueryError lists the known ones otherwise."""
        try:
            return self._metrics[metric_id]
        except KeyError:
            raise QueryError(f"unknown metric {metric_id!r}; known: "
                             f"{', '.join(self._metrics)}") from None

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._metrics.values())

    def __len__(self) -> int:
        return len(self._metrics)

    def __contains__(self, metric_id: object) -> bool:
        return metric_id in self._metrics


def metric(id: str, label: str, formula: str, semantic_type: SemanticType, description: str,
           **more: str | None) -> Metric:
    """A ``Metric`` with its formula parsed (a compact way to write the catalogue)."""
    return Metric(id, label, description, semantic_type, parse(formula), **more)  # type: ignore[arg-type]
