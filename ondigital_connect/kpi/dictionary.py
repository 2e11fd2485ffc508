"""``docs/kpis.md``: the KPI dictionary, rendered from the registry so it cannot drift.

Regenerate with ``ondigital-connect kpi-dictionary --output docs/kpis.md`` (``make docs``); a
test fails when the committed file differs from what the registry renders.
"""

from __future__ import annotations

from ondigital_connect.kpi.measures import MEASURES, ROLLUPS
from ondigital_connect.kpi.registry import Metric, MetricRegistry

_INTRO = """# KPI dictionary

Every KPI Ondigital Connect serves, defined once. Each is a formula over *base measures*, the
daily sums the rollups store (listed at the end). Ratios (AOV, COS, CR, margin %, ...) are
always computed from the summed parts after grouping: AOV for a month is the month's net sales
divided by the month's orders, never the average of thirty daily AOVs.

Revenue is **net sales**: item prices less discounts and returns, without VAT and without
shipping, in the tenant's reporting currency (each amount converted at its own day's rate).
Returns are booked on the day of the refund, as Shopify's own reports do: a return three weeks
after a sale lowers the later period, and past periods do not change when it arrives.

This page is generated from the metric registry (`ondigital_connect/kpi/catalogue.py`); do
not edit it by hand.
"""

_AGGREGATION = {
    "additive": "Adds up over every breakdown and over time.",
    "ratio": "A ratio: recomputed from its parts for every row and total, never summed or "
             "averaged.",
    "distinct": "A distinct count: recounted from the underlying facts for every row and "
                "total, never summed.",
    "semi_additive": "A snapshot: adds up across products and locations; over time the last "
                     "day counts.",
}
_UNITS = {"currency": "money (reporting currency)", "percent": "percent", "number": "count",
          "ratio": "ratio (x times)"}


def render_dictionary(registry: MetricRegistry) -> str:
    """The whole dictionary as Markdown."""
    parts = [_INTRO]
    groups: dict[str, list[Metric]] = {}
    for m in registry:
        groups.setdefault(m.group, []).append(m)
    parts.append("## Contents\n\n" + "\n".join(
        f"- {group}: " + ", ".join(f"[{m.label}](#{m.id})" for m in metrics)
        for group, metrics in groups.items()) + "\n")
    for group, metrics in groups.items():
        parts.append(f"## {group}\n")
        parts.extend(_metric(m) for m in metrics)
    parts.append(_measures())
    return "\n".join(parts)


def _metric(m: Metric) -> str:
    formula = m.formula.text
    lines = [f'<a id="{m.id}"></a>', f"### {m.label} (`{m.id}`)", "", m.description, "",
             f"- **Formula:** `{formula}`",
             f"- **Unit:** {_UNITS[m.semantic_type]}"]
    if m.basis:
        lines.append(f"- **Basis:** {m.basis}")
    lines.append(f"- **Break down by:** {', '.join(m.dimensions)}")
    lines.append(f"- **Aggregation:** {_AGGREGATION[m.additivity]}")
    if m.better:
        lines.append(f"- **Better when:** {m.better}")
    if m.trap:
        lines.append(f"- **Watch out:** {m.trap}")
    return "\n".join(lines) + "\n"


def _measures() -> str:
    lines = ["## Base measures", "",
             "The daily sums behind the formulas, by rollup and its breakdowns.", ""]
    for rollup in ROLLUPS.values():
        lines += [f"### {rollup.name} ({', '.join(rollup.dimensions)})", "",
                  rollup.description, "", "| measure | meaning |", "|---|---|"]
        lines += [f"| `{m.name}` | {m.description} |" for m in MEASURES.values()
                  if m.rollup == rollup.name]
        lines.append("")
    return "\n".join(lines)
