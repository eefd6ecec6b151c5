"""The board paper: the current comparison as one self-contained HTML file (tiles, key charts
as embedded PNG images, the comparison table, assumptions and provenance) in plain
English, laid out to print to A4 PDF from any browser.

Charts are drawn with matplotlib (no browser needed) in the dashboard's colour-blind-safe
palette and embedded as base64, so the file travels alone by e-mail.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flowsim.compare import Comparison
from flowsim.dashboard import summaries as sm
from flowsim.dashboard.figures import BASELINE_COLOUR, PALETTE, SAFE_OCCUPANCY
from flowsim.dashboard.headline import comparison_rows, ranking, target_lines, tiles
from flowsim.metrics.registry import HIGH_OCCUPANCY

if TYPE_CHECKING:
    import pandas as pd

    from flowsim.dashboard.data import Results

__all__ = ["board_paper_html"]

_WORDS = {"better": "better", "worse": "worse", "neutral": "changed", "none": "no clear change"}


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _band_png(
    bands: pd.DataFrame,
    series: str,
    order: Sequence[str],
    title: str,
    y_label: str,
    scale: float = 1.0,
    lines: Sequence[tuple[float, str]] = (),
    baseline: str | None = None,
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7.0, 2.8))
    colours = iter(PALETTE)
    for name in order:
        rows = bands[bands[series] == name]
        if rows.empty:
            continue
        is_base = name == baseline
        colour = BASELINE_COLOUR if is_base else next(colours)
        axes.fill_between(
            rows["date"], rows["low"] * scale, rows["high"] * scale, color=colour, alpha=0.18, lw=0
        )
        axes.plot(
            rows["date"],
            rows["mean"] * scale,
            color=colour,
            ls="--" if is_base else "-",
            label=f"{name} (baseline)" if is_base else str(name),
        )
    for value, text in lines:
        axes.axhline(value * scale, color="#333333", lw=0.8, ls=":")
        axes.annotate(
            text, (0.01, value * scale), xycoords=("axes fraction", "data"), fontsize=7, va="bottom"
        )
    axes.set_title(title, loc="left", fontsize=10)
    axes.set_ylabel(y_label, fontsize=8)
    axes.tick_params(labelsize=7)
    axes.grid(color="#E5E5E5", lw=0.6)
    axes.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.autofmt_xdate()
    return _png(figure)


def _change_png(changes: pd.DataFrame, category: str, title: str, x_label: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7.0, 0.5 + 0.32 * max(len(changes), 2)))
    values = changes["difference"].to_numpy(float)
    colours = [PALETTE[4] if v > 0 else PALETTE[0] for v in values]
    errors = [(values - changes["lower"].to_numpy(float)), (changes["upper"].to_numpy(float) - values)]
    axes.barh(changes[category].astype(str), values, color=colours, xerr=errors, ecolor="#333333", capsize=2)
    axes.axvline(0, color="#333333", lw=0.8)
    axes.invert_yaxis()
    axes.set_title(title, loc="left", fontsize=10)
    axes.set_xlabel(x_label, fontsize=8)
    axes.tick_params(labelsize=7)
    axes.grid(axis="x", color="#E5E5E5", lw=0.6)
    return _png(figure)


def _charts(results: Results, scenario: str, baseline: str) -> list[tuple[str, str, str]]:
    """(title, base64 PNG, explanation) of the paper's key charts, where the results hold them."""
    from flowsim.vocabulary import ORGANISATIONS

    out = []
    pair = [baseline, scenario] if scenario != baseline else [scenario]
    occupancy = results.table("occupancy")
    if occupancy is not None:
        bands = sm.band(sm.site_occupancy(occupancy[occupancy["scenario"].isin(pair)]), "occupancy")
        out.append(
            (
                "Acute bed occupancy",
                _band_png(
                    bands,
                    "scenario",
                    pair,
                    "Acute bed occupancy, all sites",
                    "% of beds in use",
                    100.0,
                    [(SAFE_OCCUPANCY, "85%"), (HIGH_OCCUPANCY, "92%")],
                    baseline,
                ),
                "Beds in use as a share of beds available each day (warm-up included); line: mean over "
                "replications, band: lowest to highest replication.",
            )
        )
    delays = results.table("delays")
    if delays is not None:
        bands = sm.band(
            sm.delayed_beds(delays[delays["scenario"] == scenario], "pathway"), "beds", ["pathway"]
        )
        out.append(
            (
                "Delayed beds",
                _band_png(
                    bands,
                    "pathway",
                    sorted(bands["pathway"].unique()),
                    f"Delayed acute beds by pathway awaited, {scenario}",
                    "beds",
                ),
                "Acute beds held by medically fit patients waiting for P1 (home with support), P2 (community "
                "bed) or P3 (care home).",
            )
        )
    kpis = results.table("kpis")
    if kpis is not None and scenario != baseline:
        organisations = [o for o in ORGANISATIONS if f"spend_{o}" in kpis.columns]
        totals = sm.organisation_totals(kpis[kpis["scenario"].isin(pair)], organisations)
        changes = sm.paired_change(totals, "pounds", "organisation", scenario, baseline)
        if not changes.empty:
            out.append(
                (
                    "Who pays, who saves",
                    _change_png(
                        changes, "organisation", f"Change in spend, {scenario} minus {baseline}", "£"
                    ),
                    "Each organisation's change in spend over the measured window, paired replication by "
                    "replication, with its 95% interval; 'system' is the total as one budget.",
                )
            )
    return out


def _table(frame: pd.DataFrame, css: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _assumptions(results: Results, scenarios: Sequence[str]) -> list[str]:
    """The run settings a reader must know, from each scenario's first manifest."""
    out = []
    for scenario in scenarios:
        run = next((r for r in results.runs if r.scenario == scenario and r.manifest), None)
        if run is None or run.manifest is None:
            continue
        config = run.manifest.get("config", {})
        run_cfg = config.get("run", {})
        population = config.get("population", {}).get("size")
        text = (
            f"{scenario}: {config.get('description') or 'no description'} "
            f"Simulated from {run_cfg.get('start_date', '?')} for {run_cfg.get('warmup_days', '?')} warm-up days "
            f"(not counted) and {run_cfg.get('horizon_days', '?')} measured days"
        )
        if population:
            text += f", a population of {int(population):,}"
        text += f"; {results.replications(scenario)} replications from seed {run_cfg.get('seed', '?')}."
        out.append(text)
    return out


def _provenance(results: Results, scenarios: Sequence[str]) -> list[str]:
    out = []
    for scenario in scenarios:
        runs = [r for r in results.runs if r.scenario == scenario and r.manifest]
        if not runs:
            continue
        m = runs[0].manifest or {}
        commit = m.get("git_commit") or "not a git checkout"
        out.append(
            f"{scenario}: {len(runs)} runs, flowsim {m.get('flowsim_version')}, code {commit}"
            f"{' (uncommitted changes)' if m.get('git_dirty') else ''}, config sha256 "
            f"{str(m.get('config_sha256'))[:16]}…; reproduce a run with: {runs[0].reproduce_command}"
        )
    return out


_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif; color: #1a1a1a;
       max-width: 190mm; margin: 12mm auto; font-size: 10.5pt; line-height: 1.4; }
h1 { font-size: 18pt; margin: 0 0 2mm; } h2 { font-size: 13pt; margin: 7mm 0 2mm;
       border-bottom: 1px solid #ccc; } .meta { color: #555; }
.tiles { display: grid; grid-template-columns: repeat(3, 1fr); gap: 3mm; }
.tile { border: 1px solid #ccc; border-left: 5px solid #5B6770; padding: 2mm 3mm; break-inside: avoid; }
.tile.better { border-left-color: #0072B2; } .tile.worse { border-left-color: #D55E00; }
.tile .label { font-size: 9pt; color: #444; } .tile .value { font-size: 14pt; font-weight: 600; }
.tile .small { font-size: 8.5pt; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 2mm 0; }
th, td { border: 1px solid #ccc; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } figure { margin: 3mm 0; break-inside: avoid; } img { max-width: 100%; }
figcaption { font-size: 8.5pt; color: #444; } ul { padding-left: 5mm; }
@media print { body { margin: 0 auto; } h2 { break-after: avoid; } }
@page { size: A4; margin: 12mm; }
"""


def board_paper_html(
    results: Results, comparison: Comparison, scenario: str, today: dt.date | None = None
) -> str:
    """The board paper of `scenario` beside the comparison's baseline, as one HTML document."""
    c, baseline = comparison, comparison.baseline
    when = (today or dt.date.today()).strftime("%d %B %Y")
    shown = [baseline] if scenario == baseline else [baseline, scenario]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Board paper: {html.escape(scenario)} against {html.escape(baseline)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(scenario)} against the baseline, {html.escape(baseline)}</h1>",
        f'<p class="meta">Board paper from the flowsim dashboard, {when}. Results: '
        f"{html.escape(str(results.root))}.</p>",
        "<h2>Summary</h2>",
    ]
    the_tiles = tiles(c, scenario)
    better = [t.label for t in the_tiles if t.tone == "better"]
    worse = [t.label for t in the_tiles if t.tone == "worse"]
    summary = (
        f"Against {baseline}, {scenario} is significantly better on {len(better)} of the {len(the_tiles)} "
        f"headline figures ({', '.join(better) or 'none'}) and significantly worse on {len(worse)} "
        f"({', '.join(worse) or 'none'}). 'Significant' means the 95% interval of the difference, paired "
        "replication by replication, does not include zero."
    )
    parts.append(f"<p>{html.escape(summary)}</p>")
    parts.append('<div class="tiles">')
    for t in the_tiles:
        targets = "".join(f'<div class="small">{html.escape(x)}</div>' for x in t.targets)
        parts.append(
            f'<div class="tile {t.tone}"><div class="label">{html.escape(t.label)}</div>'
            f'<div class="value">{html.escape(t.value)}</div>'
            f'<div class="small">Baseline {html.escape(t.baseline)}; change {html.escape(t.difference)}</div>'
            f'<div class="small"><b>{html.escape(_WORDS[t.tone])}</b>: {html.escape(t.verdict)}</div>{targets}</div>'
        )
    parts.append("</div>")
    chances = target_lines(c, scenario)
    if chances:
        parts.append("<h2>Chance of meeting the targets</h2><ul>")
        parts.extend(f"<li>{html.escape(line)}</li>" for line in chances)
        parts.append("</ul>")
    parts.append("<h2>Key charts</h2>")
    for title, png, caption in _charts(results, scenario, baseline):
        parts.append(
            f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,{png}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    parts.append("<h2>Comparison table</h2>")
    parts.append(_table(comparison_rows(c, scenario), "comparison"))
    parts.append(
        '<p class="meta">Mean over replications ± the half-width of its 95% interval. Differences: scenario '
        "minus baseline, replication by replication; pp: percentage points.</p>"
    )
    rank = ranking(c)
    if not rank.empty:
        parts.append("<h2>Ranking of scenarios</h2>")
        parts.append(_table(rank, "ranking"))
    parts.append("<h2>Assumptions</h2><ul>")
    parts.extend(f"<li>{html.escape(a)}</li>" for a in _assumptions(results, shown))
    parts.append(
        "<li>Every figure is from a simulation of synthetic people, not a forecast; differences between "
        "scenarios are more reliable than any single figure, because scenarios share random numbers.</li>"
    )
    if results.problems:
        parts.append(
            f"<li>{len(results.problems)} part(s) of the results could not be read and are left out: "
            f"{html.escape('; '.join(results.problems[:5]))}</li>"
        )
    parts.append("</ul><h2>Provenance</h2><ul>")
    parts.extend(f"<li>{html.escape(p)}</li>" for p in _provenance(results, shown))
    parts.append("</ul></body></html>")
    return "\n".join(parts) + "\n"
