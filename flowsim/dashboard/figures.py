"""The dashboard's charts: pure functions from the summaries' DataFrames to Plotly figures.

Colours are the Okabe–Ito palette, which readers with the common colour-vision
deficiencies can tell apart; the baseline is always grey-blue and dashed, so it also reads
without colour. Labels and units come from the KPI registry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flowsim.metrics.registry import FRACTION, HIGH_OCCUPANCY, Measure

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BASELINE_COLOUR",
    "PALETTE",
    "band_figure",
    "bar_change_figure",
    "grouped_bars_figure",
    "heatmap_figure",
    "sankey_figure",
    "sensitivity_figure",
]

# Okabe & Ito (2008), "Color Universal Design": safe for deuteranopia, protanopia, tritanopia.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")
BASELINE_COLOUR = "#5B6770"
# Above this, occupancy is judged to harm flow (the Royal College of Emergency Medicine and
# NHS England's 85% rule of thumb); HIGH_OCCUPANCY (92%) is the planning guidance's ceiling.
SAFE_OCCUPANCY = 0.85
# The zero line of a horizontal bar chart of changes or coefficients, across the plot.
ZERO_LINE = {
    "type": "line",
    "yref": "paper",
    "x0": 0,
    "x1": 0,
    "y0": 0,
    "y1": 1,
    "line": {"color": "#333333", "width": 1},
}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"


Figure = dict[str, Any]


def _layout(title: str, y_title: str, height: int = 300, **extra: Any) -> dict[str, Any]:
    """The common layout. Figures are plain dicts, which Dash sends as they are: building
    them as plotly graph objects validates every property and costs seconds per page."""
    axis = {"showgrid": True, "gridcolor": "#E5E5E5", "zeroline": False}
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "yaxis": {**axis, "title": {"text": y_title}},
        "xaxis": dict(axis),
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
        "font": {"family": FONT, "size": 12},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "legend": {"orientation": "h", "y": -0.18, "x": 0},
        "hovermode": "x unified",
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    return layout


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _listed(values: Any) -> list[Any]:
    """A column as a JSON-ready list (dates as ISO strings)."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(values):
        return [d.strftime("%Y-%m-%d") for d in values]
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in values.tolist()]


def _ordered(names: list[Any], baseline: str | None) -> list[Any]:
    return [baseline, *(n for n in names if n != baseline)] if baseline in names else names


def band_figure(
    bands: pd.DataFrame,
    title: str,
    y_title: str,
    *,
    series: str = "scenario",
    baseline: str | None = None,
    percent: bool = False,
    lines: Sequence[tuple[float, str]] = (),
) -> Figure:
    """Lines with bands: one per value of `series` (a `band` frame: date, mean, low, high).
    `percent` shows fractions as percentages; `lines` adds labelled horizontal lines."""
    data: list[dict[str, Any]] = []
    scale = 100.0 if percent else 1.0
    colours = iter(PALETTE)
    for name in _ordered(list(dict.fromkeys(bands[series].tolist())), baseline):
        rows = bands[bands[series] == name]
        is_base = name == baseline
        colour = BASELINE_COLOUR if is_base else next(colours, "#000000")
        label = f"{name} (baseline)" if is_base else str(name)
        x = _listed(rows["date"])
        data.append(
            {
                "type": "scatter",
                "x": x + x[::-1],
                "y": _listed(rows["high"] * scale) + _listed(rows["low"] * scale)[::-1],
                "fill": "toself",
                "fillcolor": _rgba(colour, 0.18),
                "line": {"width": 0},
                "hoverinfo": "skip",
                "showlegend": False,
                "name": f"{label}: range",
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": _listed(rows["mean"] * scale),
                "name": label,
                "line": {"color": colour, "width": 2, "dash": "dash" if is_base else "solid"},
            }
        )
    shapes = [
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "y0": value * scale,
            "y1": value * scale,
            "line": {"color": "#333333", "width": 1, "dash": "dot"},
        }
        for value, _ in lines
    ]
    notes = [
        {
            "xref": "paper",
            "x": 0,
            "y": value * scale,
            "text": text,
            "showarrow": False,
            "xanchor": "left",
            "yanchor": "bottom",
            "font": {"size": 11},
        }
        for value, text in lines
    ]
    return {"data": data, "layout": _layout(title, y_title, shapes=shapes, annotations=notes)}


def occupancy_lines() -> list[tuple[float, str]]:
    """The 85% and 92% lines drawn on every occupancy chart."""
    return [(SAFE_OCCUPANCY, "85%: flow starts to suffer"), (HIGH_OCCUPANCY, "92%: planning ceiling")]


def grouped_bars_figure(
    frame: pd.DataFrame, x: str, y: str, series: str, title: str, y_title: str, baseline: str | None = None
) -> Figure:
    """Bars of `y` by `x`, one colour per `series` (the baseline grey, hatched)."""
    data = []
    colours = iter(PALETTE)
    for name in _ordered(list(dict.fromkeys(frame[series].tolist())), baseline):
        rows = frame[frame[series] == name]
        is_base = name == baseline
        data.append(
            {
                "type": "bar",
                "x": _listed(rows[x]),
                "y": _listed(rows[y]),
                "name": f"{name} (baseline)" if is_base else str(name),
                "marker": {
                    "color": BASELINE_COLOUR if is_base else next(colours, "#000000"),
                    "pattern": {"shape": "/" if is_base else ""},
                },
            }
        )
    return {"data": data, "layout": _layout(title, y_title, barmode="group", hovermode="closest")}


def bar_change_figure(
    changes: pd.DataFrame, category: str, title: str, x_title: str, better: str | None = "lower"
) -> Figure:
    """Horizontal bars of scenario − baseline with 95% intervals; blue where the change is an
    improvement, orange where it is not (by `better`), grey where neither is."""

    def colour(value: float) -> str:
        if better is None or value == 0:
            return BASELINE_COLOUR
        good = value < 0 if better == "lower" else value > 0
        return PALETTE[0] if good else PALETTE[4]

    bar = {
        "type": "bar",
        "orientation": "h",
        "y": _listed(changes[category]),
        "x": _listed(changes["difference"]),
        "marker": {"color": [colour(v) for v in changes["difference"]]},
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": _listed((changes["upper"] - changes["difference"]).fillna(0)),
            "arrayminus": _listed((changes["difference"] - changes["lower"]).fillna(0)),
            "color": "#333333",
        },
        "name": "change",
    }
    layout = _layout(
        title,
        "",
        height=max(260, 60 + 28 * len(changes)),
        xaxis={"title": {"text": x_title}},
        yaxis={"autorange": "reversed", "automargin": True},
        hovermode="closest",
        showlegend=False,
        shapes=[ZERO_LINE],
    )
    return {"data": [bar], "layout": layout}


def sankey_figure(links: pd.DataFrame, title: str) -> Figure:
    """A Sankey diagram of links (source, target, people); links of no one are left out."""
    links = links[links["people"] > 0]
    nodes = list(dict.fromkeys([*links["source"], *links["target"]]))
    index = {n: i for i, n in enumerate(nodes)}
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(nodes))]
    sankey = {
        "type": "sankey",
        "arrangement": "snap",
        "valueformat": ",.0f",
        "valuesuffix": " people",
        "node": {"label": nodes, "pad": 14, "thickness": 14, "color": colours},
        "link": {
            "source": [index[s] for s in links["source"]],
            "target": [index[t] for t in links["target"]],
            "value": _listed(links["people"]),
            "color": [_rgba(colours[index[s]], 0.35) for s in links["source"]],
        },
    }
    return {"data": [sankey], "layout": _layout(title, "", height=430, hovermode="closest")}


def heatmap_figure(pivot: pd.DataFrame, title: str, x_title: str, y_title: str, colour_title: str) -> Figure:
    """A heatmap of a KPI's mean over two swept parameters (cividis: colour-blind safe)."""
    heatmap = {
        "type": "heatmap",
        "z": [[None if math.isnan(v) else float(v) for v in row] for row in pivot.to_numpy(float)],
        "x": [f"{v:.4g}" for v in pivot.columns],
        "y": [f"{v:.4g}" for v in pivot.index],
        "colorscale": "Cividis",
        "colorbar": {"title": {"text": colour_title}},
    }
    layout = _layout(title, y_title, height=360, xaxis={"title": {"text": x_title}}, hovermode="closest")
    return {"data": [heatmap], "layout": layout}


def sensitivity_figure(ranking: pd.DataFrame, title: str) -> Figure:
    """The sensitivity ranking as horizontal bars of standardised coefficients."""
    bar = {
        "type": "bar",
        "orientation": "h",
        "y": _listed(ranking["parameter"]),
        "x": _listed(ranking["coefficient"]),
        "marker": {"color": [PALETTE[0] if c >= 0 else PALETTE[1] for c in ranking["coefficient"]]},
    }
    layout = _layout(
        title,
        "",
        height=max(240, 60 + 30 * len(ranking)),
        xaxis={"title": {"text": "standardised coefficient"}},
        yaxis={"autorange": "reversed", "automargin": True},
        hovermode="closest",
        showlegend=False,
        shapes=[ZERO_LINE],
    )
    return {"data": [bar], "layout": layout}


def axis_title(measure: Measure) -> str:
    """A y-axis title from the registry: the unit, '%' for any proportion."""
    if measure.kind == "proportion":
        return "%"
    return measure.unit


def to_shown(measure: Measure, values: pd.Series) -> pd.Series:
    """Values as the axis shows them: fractions as percentages."""
    return values * 100.0 if measure.kind == "proportion" and measure.scale == FRACTION else values
