"""The dashboard's charts: pure functions from the summaries' DataFrames to Plotly figures.

Colours are the Okabe–Ito palette, which readers with the common colour-vision
deficiencies can tell apart; the baseline is always grey-blue and dashed, so it also reads
without colour. Labels and units come from the KPI registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flowsim.metrics.registry import FRACTION, HIGH_OCCUPANCY, Measure

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

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
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"


def _layout(fig: go.Figure, title: str, y_title: str, height: int = 300) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "font": {"size": 15}},
        yaxis_title=y_title,
        height=height,
        margin={"l": 60, "r": 20, "t": 40, "b": 40},
        font={"family": FONT, "size": 12},
        plot_bgcolor="white",
        paper_bgcolor="white",
        legend={"orientation": "h", "y": -0.18, "x": 0},
        hovermode="x unified",
    )
    fig.update_xaxes(showgrid=True, gridcolor="#E5E5E5")
    fig.update_yaxes(showgrid=True, gridcolor="#E5E5E5", zeroline=False)
    return fig


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def band_figure(
    bands: pd.DataFrame,
    title: str,
    y_title: str,
    *,
    series: str = "scenario",
    baseline: str | None = None,
    percent: bool = False,
    lines: Sequence[tuple[float, str]] = (),
) -> go.Figure:
    """Lines with bands: one per value of `series` (a `band` frame: date, mean, low, high).
    `percent` shows fractions as percentages; `lines` adds labelled horizontal lines."""
    import plotly.graph_objects as go

    fig = go.Figure()
    scale = 100.0 if percent else 1.0
    names = list(dict.fromkeys(bands[series].tolist()))
    if baseline in names:
        names = [baseline, *(n for n in names if n != baseline)]
    colours = iter(PALETTE)
    for name in names:
        rows = bands[bands[series] == name]
        is_base = name == baseline
        colour = BASELINE_COLOUR if is_base else next(colours, "#000000")
        label = f"{name} (baseline)" if is_base else str(name)
        fig.add_trace(
            go.Scatter(
                x=list(rows["date"]) + list(rows["date"])[::-1],
                y=list(rows["high"] * scale) + list(rows["low"] * scale)[::-1],
                fill="toself",
                fillcolor=_rgba(colour, 0.18),
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                name=f"{label}: range",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=rows["date"],
                y=rows["mean"] * scale,
                mode="lines",
                name=label,
                line={"color": colour, "width": 2, "dash": "dash" if is_base else "solid"},
            )
        )
    for value, text in lines:
        fig.add_hline(
            y=value * scale,
            line={"color": "#333333", "width": 1, "dash": "dot"},
            annotation_text=text,
            annotation_position="top left",
        )
    return _layout(fig, title, y_title)


def occupancy_lines() -> list[tuple[float, str]]:
    """The 85% and 92% lines drawn on every occupancy chart."""
    return [(SAFE_OCCUPANCY, "85%: flow starts to suffer"), (HIGH_OCCUPANCY, "92%: planning ceiling")]


def grouped_bars_figure(
    frame: pd.DataFrame, x: str, y: str, series: str, title: str, y_title: str, baseline: str | None = None
) -> go.Figure:
    """Bars of `y` by `x`, one colour per `series` (the baseline grey, hatched)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    colours = iter(PALETTE)
    names = list(dict.fromkeys(frame[series].tolist()))
    if baseline in names:
        names = [baseline, *(n for n in names if n != baseline)]
    for name in names:
        rows = frame[frame[series] == name]
        is_base = name == baseline
        fig.add_trace(
            go.Bar(
                x=rows[x],
                y=rows[y],
                name=f"{name} (baseline)" if is_base else str(name),
                marker={
                    "color": BASELINE_COLOUR if is_base else next(colours, "#000000"),
                    "pattern": {"shape": "/" if is_base else ""},
                },
            )
        )
    fig.update_layout(barmode="group")
    fig = _layout(fig, title, y_title)
    fig.update_layout(hovermode="closest")
    return fig


def bar_change_figure(
    changes: pd.DataFrame, category: str, title: str, x_title: str, better: str | None = "lower"
) -> go.Figure:
    """Horizontal bars of scenario − baseline with 95% intervals; blue where the change is an
    improvement, orange where it is not (by `better`), grey where neither is."""
    import plotly.graph_objects as go

    def colour(value: float) -> str:
        if better is None or value == 0:
            return BASELINE_COLOUR
        good = value < 0 if better == "lower" else value > 0
        return PALETTE[0] if good else PALETTE[4]

    fig = go.Figure(
        go.Bar(
            y=changes[category],
            x=changes["difference"],
            orientation="h",
            marker={"color": [colour(v) for v in changes["difference"]]},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (changes["upper"] - changes["difference"]).fillna(0),
                "arrayminus": (changes["difference"] - changes["lower"]).fillna(0),
                "color": "#333333",
            },
            name="change",
        )
    )
    fig.add_vline(x=0, line={"color": "#333333", "width": 1})
    fig = _layout(fig, title, "", height=max(260, 60 + 28 * len(changes)))
    fig.update_layout(xaxis_title=x_title, hovermode="closest", showlegend=False)
    fig.update_yaxes(autorange="reversed")
    return fig


def sankey_figure(links: pd.DataFrame, title: str) -> go.Figure:
    """A Sankey diagram of links (source, target, people); links of no one are left out."""
    import plotly.graph_objects as go

    links = links[links["people"] > 0]
    nodes = list(dict.fromkeys([*links["source"], *links["target"]]))
    index = {n: i for i, n in enumerate(nodes)}
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(nodes))]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            valueformat=",.0f",
            valuesuffix=" people",
            node={"label": nodes, "pad": 14, "thickness": 14, "color": colours},
            link={
                "source": [index[s] for s in links["source"]],
                "target": [index[t] for t in links["target"]],
                "value": links["people"],
                "color": [_rgba(colours[index[s]], 0.35) for s in links["source"]],
            },
        )
    )
    fig = _layout(fig, title, "", height=430)
    fig.update_layout(hovermode="closest")
    return fig


def heatmap_figure(
    pivot: pd.DataFrame, title: str, x_title: str, y_title: str, colour_title: str
) -> go.Figure:
    """A heatmap of a KPI's mean over two swept parameters (cividis: colour-blind safe)."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Heatmap(
            z=pivot.to_numpy(),
            x=[f"{v:.4g}" for v in pivot.columns],
            y=[f"{v:.4g}" for v in pivot.index],
            colorscale="Cividis",
            colorbar={"title": {"text": colour_title}},
        )
    )
    fig = _layout(fig, title, y_title, height=360)
    fig.update_layout(xaxis_title=x_title, hovermode="closest")
    return fig


def sensitivity_figure(ranking: pd.DataFrame, title: str) -> go.Figure:
    """The sensitivity ranking as horizontal bars of standardised coefficients."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            y=ranking["parameter"],
            x=ranking["coefficient"],
            orientation="h",
            marker={"color": [PALETTE[0] if c >= 0 else PALETTE[1] for c in ranking["coefficient"]]},
        )
    )
    fig.add_vline(x=0, line={"color": "#333333", "width": 1})
    fig = _layout(fig, title, "", height=max(240, 60 + 30 * len(ranking)))
    fig.update_layout(xaxis_title="standardised coefficient", hovermode="closest", showlegend=False)
    fig.update_yaxes(autorange="reversed")
    return fig


def axis_title(measure: Measure) -> str:
    """A y-axis title from the registry: the unit, '%' for any proportion."""
    if measure.kind == "proportion":
        return "%"
    return measure.unit


def to_shown(measure: Measure, values: pd.Series) -> pd.Series:
    """Values as the axis shows them: fractions as percentages."""
    return values * 100.0 if measure.kind == "proportion" and measure.scale == FRACTION else values
