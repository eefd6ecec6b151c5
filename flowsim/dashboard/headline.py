"""The headline comparison a board reads first: tiles, the comparison table and the ranking.

All statistics are `flowsim.compare`'s (paired differences with t intervals, verdicts,
targets' shares); this module only chooses what to show and words it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowsim.compare import (
    Comparison,
    KpiComparison,
    compare_kpis,
    format_difference,
    format_interval,
    parse_target,
)
from flowsim.metrics.registry import HEADLINE_KPIS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "TILE_KPIS",
    "Tile",
    "comparison_for",
    "comparison_rows",
    "ranking",
    "split_targets",
    "target_lines",
    "tiles",
]

# The six figures on the overview's tiles, in reading order.
TILE_KPIS: tuple[str, ...] = (
    "ae_4h_pct",
    "emergency_admissions_per_1000",
    "acute_occupancy_mean",
    "dtoc_bed_days",
    "elective_cancellations",
    "spend_total",
)


@dataclass(frozen=True)
class Tile:
    """One headline figure of a scenario beside the baseline, as words."""

    kpi: str
    label: str
    value: str  # the scenario's mean ± its 95% interval
    baseline: str  # the baseline's, likewise
    difference: str  # scenario − baseline ± 95% interval
    verdict: str
    tone: str  # better, worse, neutral or none: how the tile is marked
    targets: tuple[str, ...]  # 'Acute bed occupancy ≤ 92.0%: met in 67% (2 of 3)'


def split_targets(text: str | None) -> list[str]:
    """Targets typed one per line or separated by commas or semicolons."""
    if not text:
        return []
    parts = [p.strip() for line in text.splitlines() for chunk in line.split(";") for p in chunk.split(",")]
    return [p for p in parts if p]


def comparison_for(kpis: pd.DataFrame, baseline: str | None, targets: Sequence[str] = ()) -> Comparison:
    """`flowsim compare` on the kpis table read: the headline and tile KPIs, with targets.
    Raises `flowsim.compare.CompareError` for a bad target or baseline."""
    import pyarrow as pa

    parsed = [parse_target(t) for t in targets]
    names = [k for k in dict.fromkeys([*TILE_KPIS, *HEADLINE_KPIS]) if k in kpis.columns]
    table = pa.Table.from_pandas(kpis, preserve_index=False)
    return compare_kpis(table, baseline=baseline, kpi_names=names, targets=parsed)


def _row(c: Comparison, kpi: str, scenario: str) -> KpiComparison | None:
    return next((r for r in c.rows if r.kpi == kpi and r.scenario == scenario), None)


def _difference_text(row: KpiComparison) -> str:
    if row.difference is None:
        return "–"
    d = row.difference.difference
    shown = format_difference(row.measure, d.mean)
    if math.isnan(d.half_width):
        return shown
    return f"{shown} ± {format_difference(row.measure, d.half_width).lstrip('+')}"


def _tone(verdict: str) -> str:
    word = verdict.split(" ")[0]
    if not verdict.endswith("significant") or word == "no":
        return "none"
    return {"better": "better", "worse": "worse"}.get(word, "neutral")


def target_lines(c: Comparison, scenario: str, kpi: str | None = None) -> tuple[str, ...]:
    """Each target's share of the scenario's replications that meet it, in words (only the
    targets of `kpi` if given): the chance that the plan works."""
    out = []
    for share in c.target_shares:
        if share.scenario != scenario or (kpi is not None and share.target.kpi != kpi):
            continue
        if share.met is None:
            chance = "undefined in some replications"
        elif share.replications == 0:
            chance = "no replication to judge"
        else:
            chance = f"met in {share.share:.0%} of replications ({share.met} of {share.replications})"
        out.append(f"Target {share.target.describe()}: {chance}")
    return tuple(out)


def tiles(c: Comparison, scenario: str) -> list[Tile]:
    """The tiles of `scenario` beside the comparison's baseline (KPIs the results hold)."""
    out = []
    for kpi in TILE_KPIS:
        row, base = _row(c, kpi, scenario), _row(c, kpi, c.baseline)
        if row is None or base is None:
            continue
        verdict = "this is the baseline" if scenario == c.baseline else row.verdict
        out.append(
            Tile(
                kpi=kpi,
                label=row.measure.label,
                value=format_interval(row.measure, row.interval),
                baseline=format_interval(base.measure, base.interval),
                difference=_difference_text(row),
                verdict=verdict,
                tone=_tone(verdict),
                targets=target_lines(c, scenario, kpi),
            )
        )
    return out


def comparison_rows(c: Comparison, scenario: str) -> pd.DataFrame:
    """The comparison table of one scenario: every KPI compared, in words."""
    import pandas as pd

    rows = []
    for kpi in c.kpis:
        row, base = _row(c, kpi, scenario), _row(c, kpi, c.baseline)
        if row is None or base is None:
            continue
        rows.append(
            {
                "KPI": row.measure.label,
                f"Baseline ({c.baseline})": format_interval(base.measure, base.interval),
                f"Scenario ({scenario})": format_interval(row.measure, row.interval),
                "Difference ± 95% CI": _difference_text(row) if scenario != c.baseline else "–",
                "Verdict": row.verdict if scenario != c.baseline else "baseline",
            }
        )
    return pd.DataFrame(rows)


def ranking(c: Comparison) -> pd.DataFrame:
    """Scenarios other than the baseline, best first: by the chance of meeting the weakest
    target (when there are targets), then by tiles significantly better less those
    significantly worse, then by the change in system spend (lower first)."""
    import pandas as pd

    rows = []
    for scenario in c.scenarios[1:]:
        verdicts = [r.verdict for r in c.rows if r.scenario == scenario and r.kpi in TILE_KPIS]
        better = sum(v.startswith("better") for v in verdicts)
        worse = sum(v.startswith("worse") for v in verdicts)
        shares = [s.share for s in c.target_shares if s.scenario == scenario]
        weakest = (
            None if not shares or any(s is None for s in shares) else min(s for s in shares if s is not None)
        )
        spend = _row(c, "spend_total", scenario)
        change = math.nan
        if spend is not None and spend.difference is not None:
            change = spend.difference.difference.mean
        rows.append(
            {
                "Scenario": scenario,
                "Headline figures better (significant)": better,
                "Headline figures worse (significant)": worse,
                "Chance of meeting every target (weakest)": "–" if weakest is None else f"{weakest:.0%}",
                "Change in system spend": "–"
                if math.isnan(change)
                else format_difference(spend.measure, change),  # type: ignore[union-attr]
                "_weakest": -1.0 if weakest is None else weakest,
                "_net": better - worse,
                "_spend": math.inf if math.isnan(change) else change,
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame = frame.sort_values(["_weakest", "_net", "_spend"], ascending=[False, False, True])
    frame.insert(0, "Rank", range(1, len(frame) + 1))
    return frame.drop(columns=["_weakest", "_net", "_spend"]).reset_index(drop=True)
