"""Summarise a sweep: KPI means and intervals beside their parameters, and which
parameters matter most.

Reads a sweep's results folder (`flowsim sweep --out`): its `experiment.json` says which
scenario folder is which (scenario, sample) and what the design was; the `kpis` table
holds each run's KPIs with its parameter values as columns. The summary is one tidy
table (a row per scenario and sample, or per scenario, or one for the whole experiment
with counts added up across scenarios, e.g. a national total of footprints) and, per KPI,
the global sensitivity of the design:

- Sobol design: Sobol first-order (S1) and total (ST) indices with 95% intervals
  (SALib, Saltelli's estimators), on the replication means of each sample;
- grid (or sampled) design: the swing of each parameter's main effect, the mean KPI at
  its highest level (top quarter of draws) less that at its lowest (bottom quarter): a
  tornado ranking that needs no metamodel.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from flowsim.compare import _md_table, _shown, format_interval
from flowsim.metrics.registry import KPIS, Measure, kpi
from flowsim.stats import Interval, mean_ci

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "DEFAULT_KPIS",
    "Summary",
    "SummaryError",
    "print_summary",
    "render_sensitivity_csv",
    "render_summary",
    "summarise_sweep",
]

# What a board asks of a sensitivity analysis: occupancy, delayed transfers, waits, cost.
DEFAULT_KPIS = ("acute_occupancy_mean", "dtoc_bed_days", "ae_4h_pct", "spend_total")
By = Literal["sample", "scenario", "total"]


class SummaryError(ValueError):
    """A sweep folder or request that cannot be summarised; str() is one line."""


@dataclass(frozen=True)
class Row:
    scenario: str  # the spec's scenario ("all" for a total)
    sample: int | None
    parameters: dict[str, Any]
    kpis: dict[str, Interval]  # over replications


@dataclass(frozen=True)
class Sensitivity:
    """How much one parameter moves one KPI (within one scenario)."""

    scenario: str
    kpi: str
    parameter: str
    first_order: float | None = None  # Sobol S1
    first_order_conf: float | None = None
    total: float | None = None  # Sobol ST
    total_conf: float | None = None
    swing: float | None = None  # main effect: high less low


@dataclass
class Summary:
    name: str
    source: Path
    design: str | None
    parameters: list[str]
    kpis: list[str]
    by: By
    rows: list[Row]
    sensitivity: list[Sensitivity] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def method(self) -> str | None:
        if not self.sensitivity:
            return None
        return "sobol" if self.design == "sobol" else "swing"

    def table(self) -> list[dict[str, Any]]:
        """The tidy summary: one row per (scenario, sample, KPI)."""
        out = []
        for row in self.rows:
            for name, iv in row.kpis.items():
                measure = kpi(name)
                out.append(
                    {
                        "scenario": row.scenario,
                        "sample": row.sample,
                        **row.parameters,
                        "kpi": name,
                        "label": measure.label,
                        "unit": measure.unit,
                        "mean": _num(iv.mean),
                        "ci_lower": _num(iv.lower),
                        "ci_upper": _num(iv.upper),
                        "replications": iv.n,
                    }
                )
        return out

    def sensitivity_table(self) -> list[dict[str, Any]]:
        return [
            {
                "scenario": s.scenario,
                "kpi": s.kpi,
                "label": kpi(s.kpi).label,
                "parameter": s.parameter,
                "S1": s.first_order,
                "S1_conf": s.first_order_conf,
                "ST": s.total,
                "ST_conf": s.total_conf,
                "swing": s.swing,
            }
            for s in self.sensitivity
        ]


def _num(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


# --------------------------------------------------------------------------------------
# Reading


def _kpi_names(present: set[str], names: Sequence[str] | None) -> list[str]:
    known = {m.name for m in KPIS}
    if names is None:
        return [k for k in DEFAULT_KPIS if k in present]
    for name in names:
        if name not in known:
            raise SummaryError(f"--kpi {name}: not a KPI of the registry (see docs/kpis.md)")
        if name not in present:
            raise SummaryError(f"--kpi {name}: not in the sweep's kpis table")
    return list(dict.fromkeys(names))


def summarise_sweep(root: str | Path, kpis: Sequence[str] | None = None, *, by: By = "sample") -> Summary:
    """The summary of a sweep's results folder (see the module docstring)."""
    from flowsim.results import read_table
    from flowsim.sweep.runner import read_experiment_record

    root = Path(root)
    record = read_experiment_record(root)
    where = {r["folder"]: (r["scenario"], r["sample"]) for r in record["runs"]}
    table = read_table(root, "kpis").to_pandas()
    table = table[table["scenario"].isin(where)]
    if table.empty:
        raise SummaryError(f"{root}: no complete run of experiment {record['name']!r} yet")
    names = _kpi_names(set(table.columns), kpis)
    parameters: list[str] = list(record.get("parameters") or [])
    table = table.assign(
        _scenario=[where[f][0] for f in table["scenario"]],
        _sample=[where[f][1] for f in table["scenario"]],
    )
    summary = Summary(record["name"], root, record.get("design"), parameters, names, by, [])
    expected = len(record["runs"])
    if len(table) < expected:
        summary.notes.append(f"{len(table)} of {expected} runs complete: the rest are left out")

    if by == "total":
        summary.rows.append(_total_row(table, names, summary))
    else:
        keys = ["_scenario", "_sample"] if by == "sample" else ["_scenario"]
        for key, group in table.groupby(keys, sort=True, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            sample = None if by == "scenario" or _missing(key[1]) else int(key[1])
            params = {p: _plain(group[p].iloc[0]) for p in parameters} if sample is not None else {}
            summary.rows.append(
                Row(
                    str(key[0]),
                    sample,
                    params,
                    {k: mean_ci(group[k].astype(float).to_numpy()) for k in names},
                )
            )
    if parameters and by == "sample":
        summary.sensitivity = _sensitivity(table, names, parameters, record, summary)
    return summary


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def adds_up(measure: Measure) -> bool:
    """True for a measure whose national value is the sum of its footprints' (people,
    admissions, bed-days, beds, pounds); False for rates, shares, durations and day counts
    (a mean stay, occupancy, days above 92%), which are weighted by population instead."""
    if measure.kind not in ("count", "quantity", "money"):
        return False
    return measure.unit != "days" and not measure.unit.startswith("per ")


def _total_row(table: Any, names: list[str], summary: Summary) -> Row:
    """All scenarios together, replication by replication: what `adds_up` summed, anything
    else (shares, rates, durations) weighted by each scenario's population."""
    intervals = {}
    by_rep = table.groupby("replication")
    for name in names:
        measure = kpi(name)
        if adds_up(measure):
            values = by_rep[name].sum()
        elif "population" in table.columns:
            values = by_rep.apply(lambda g, n=name: np.average(g[n].astype(float), weights=g["population"]))
        else:
            summary.notes.append(f"{name}: no population column to weight by; left out of the total")
            continue
        intervals[name] = mean_ci(np.asarray(values, dtype=float))
    n = table["_scenario"].nunique()
    summary.notes.append(
        f"total over {n} scenario{'s' if n != 1 else ''}: people, counts, bed-days, beds and money added; shares, rates and durations weighted by population"
    )
    return Row("all", None, {}, intervals)


def _sensitivity(
    table: Any, names: list[str], parameters: list[str], record: dict[str, Any], summary: Summary
) -> list[Sensitivity]:
    out: list[Sensitivity] = []
    design = record.get("design")
    for scenario, group in table.groupby("_scenario", sort=True):
        means = group.groupby("_sample")[[*names, *parameters]].mean()
        for name in names:
            y = means[name]
            if y.isna().any():
                summary.notes.append(f"{scenario}: {name} is missing in some samples; no sensitivity")
                continue
            if design == "sobol":
                out.extend(_sobol(str(scenario), name, parameters, y, record, summary))
            else:
                out.extend(_swings(str(scenario), name, parameters, means, design == "grid"))
    return out


def _sobol(
    scenario: str, name: str, parameters: list[str], y: Any, record: dict[str, Any], summary: Summary
) -> list[Sensitivity]:
    from SALib.analyze import sobol

    from flowsim.sweep.design import salib_problem

    n_samples = len(record.get("samples") or [])
    if len(y) != n_samples or list(y.index) != list(range(n_samples)):
        summary.notes.append(
            f"{scenario}: {name}: Sobol indices need every sample; {len(y)} of {n_samples} done"
        )
        return []
    result = sobol.analyze(
        salib_problem(parameters),
        y.to_numpy(dtype=float),
        calc_second_order=False,
        print_to_console=False,
        seed=0,
    )
    return [
        Sensitivity(
            scenario,
            name,
            p,
            first_order=float(result["S1"][i]),
            first_order_conf=float(result["S1_conf"][i]),
            total=float(result["ST"][i]),
            total_conf=float(result["ST_conf"][i]),
        )
        for i, p in enumerate(parameters)
    ]


def _swings(scenario: str, name: str, parameters: list[str], means: Any, grid: bool) -> list[Sensitivity]:
    out = []
    for p in parameters:
        x = means[p].astype(float)
        if grid:
            effect = means.groupby(p)[name].mean()
            swing = float(effect.iloc[-1] - effect.iloc[0]) if len(effect) > 1 else math.nan
        else:
            low, high = x.quantile(0.25), x.quantile(0.75)
            swing = float(means.loc[x >= high, name].mean() - means.loc[x <= low, name].mean())
        out.append(Sensitivity(scenario, name, p, swing=None if math.isnan(swing) else swing))
    return out


# --------------------------------------------------------------------------------------
# Showing


def _ranked(summary: Summary) -> list[tuple[str, str, list[Sensitivity]]]:
    """(scenario, kpi, its parameters ranked by total index or absolute swing)."""
    groups: dict[tuple[str, str], list[Sensitivity]] = {}
    for s in summary.sensitivity:
        groups.setdefault((s.scenario, s.kpi), []).append(s)

    def weight(s: Sensitivity) -> float:
        value = s.total if summary.method == "sobol" else s.swing
        return -abs(value) if value is not None and not math.isnan(value) else 0.0

    return [(sc, k, sorted(v, key=weight)) for (sc, k), v in groups.items()]


def _index(value: float | None, conf: float | None) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:.2f} ± {conf:.2f}" if conf is not None and not math.isnan(conf) else f"{value:.2f}"


def _swing_text(measure: Measure, value: float | None) -> str:
    if value is None:
        return "–"
    from flowsim.compare import format_difference

    return format_difference(measure, value)


def _main_rows(summary: Summary) -> tuple[list[str], list[list[str]]]:
    header = ["Scenario", *(["Sample"] if summary.by == "sample" and summary.parameters else [])]
    header += summary.parameters if summary.by == "sample" else []
    header += [kpi(k).label for k in summary.kpis]
    rows = []
    for row in summary.rows:
        cells = [row.scenario]
        if summary.by == "sample" and summary.parameters:
            cells.append("" if row.sample is None else str(row.sample))
            cells += [_value_text(row.parameters.get(p)) for p in summary.parameters]
        cells += [format_interval(kpi(k), row.kpis[k]) if k in row.kpis else "–" for k in summary.kpis]
        rows.append(cells)
    return header, rows


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _sensitivity_rows(summary: Summary) -> tuple[list[str], list[list[str]]]:
    if summary.method == "sobol":
        header = ["Scenario", "KPI", "Parameter", "First-order S1", "Total ST"]
    else:
        header = ["Scenario", "KPI", "Parameter", "Swing (high less low)"]
    rows = []
    for scenario, name, ranked in _ranked(summary):
        measure = _shown(kpi(name))
        for s in ranked:
            if summary.method == "sobol":
                rows.append(
                    [
                        scenario,
                        measure.label,
                        s.parameter,
                        _index(s.first_order, s.first_order_conf),
                        _index(s.total, s.total_conf),
                    ]
                )
            else:
                rows.append([scenario, measure.label, s.parameter, _swing_text(measure, s.swing)])
    return header, rows


def _title(summary: Summary) -> str:
    what = {"sample": "by scenario and sample", "scenario": "by scenario", "total": "all scenarios together"}
    return f"Experiment {summary.name}: KPIs over replications (mean ± 95% interval), {what[summary.by]}"


def _sensitivity_title(summary: Summary) -> str:
    if summary.method == "sobol":
        return "Global sensitivity: Sobol indices (± 95% interval), most influential first"
    return "Sensitivity: main-effect swing of each parameter (tornado ranking), largest first"


def print_summary(summary: Summary, console: Console) -> None:
    from rich.table import Table

    header, rows = _main_rows(summary)
    table = Table(title=_title(summary), title_justify="left")
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i == 0 else "right")
    for r in rows:
        table.add_row(*r)
    console.print(table)
    if summary.sensitivity:
        header, rows = _sensitivity_rows(summary)
        table = Table(title=_sensitivity_title(summary), title_justify="left")
        for h in header:
            table.add_column(h)
        for r in rows:
            table.add_row(*r)
        console.print(table)
    for note in summary.notes:
        console.print(f"note: {note}", markup=False)


def _csv(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    buffer = io.StringIO()
    columns = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return buffer.getvalue()


def render_sensitivity_csv(summary: Summary) -> str:
    return _csv(summary.sensitivity_table())


def render_summary(summary: Summary, fmt: Literal["csv", "markdown"] | str) -> str:
    """csv: the tidy table (`render_sensitivity_csv` gives the other); markdown: both."""
    if fmt == "csv":
        return _csv(summary.table())
    header, rows = _main_rows(summary)
    lines = [f"## {_title(summary)}", ""]
    lines += _md_table(header, rows, "l" + "r" * (len(header) - 1))
    if summary.sensitivity:
        header, rows = _sensitivity_rows(summary)
        lines += ["", f"### {_sensitivity_title(summary)}", ""]
        lines += _md_table(header, rows, "lll" + "r" * (len(header) - 3))
    lines += [""] + [f"- {note}" for note in summary.notes] if summary.notes else []
    return "\n".join(lines) + "\n"
