"""Compare scenarios with a baseline: the decision itself.

For each KPI (from the registry, with its label, unit and better direction) and each
scenario: the mean over replications with its 95% t interval; the paired difference from
the baseline with its interval, and a verdict in plain words; how many replications the
KPI needs for a stated precision (the confidence-interval method of Hoad, Robinson and
Davies 2010); and, for targets the user states, the share of replications in which the
scenario meets each: the chance that the plan works.

Scenarios run with the same replication seeds share common random numbers, so replication
k of a scenario is paired with replication k of the baseline. Replications present in only
one of the two are left out of the difference, and counted.

Everything here is a pure function of the kpis table (`compare_kpis`); `compare` reads it
from a results folder. The tidy tables (`Comparison.table`, `Comparison.targets_table`)
are what the CSV and Parquet outputs hold and what a dashboard reads.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import os
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from flowsim.metrics.registry import FRACTION, HEADLINE_KPIS, KPIS, Measure, kpi
from flowsim.stats import (
    DEFAULT_CONFIDENCE,
    Interval,
    PairedDifference,
    ReplicationsNeeded,
    mean_ci,
    paired_difference,
    replications_needed,
    replications_projected,
)

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    from rich.console import Console

__all__ = [
    "BASELINE_NAME",
    "FORMATS",
    "CompareError",
    "Comparison",
    "KpiComparison",
    "Target",
    "TargetShare",
    "compare",
    "compare_kpis",
    "parse_target",
    "print_comparison",
    "render",
    "render_markdown",
    "render_text",
    "targets_path",
    "verdict",
    "write_comparison",
]

# A scenario of this name is the baseline unless the user names another.
BASELINE_NAME = "baseline"
FORMATS = ("table", "csv", "parquet", "markdown")
DEFAULT_PRECISION = 0.05
ALL_KPIS = "all"
NO_VALUE = "–"

Operator = Literal["<=", ">="]
_SYMBOL = {"<=": "≤", ">=": "≥"}
_TARGET = re.compile(r"^\s*([A-Za-z0-9_]+)\s*(<=|>=)\s*(\S.*?)\s*$")
_NUMBER = re.compile(r"^[-+]?(\d[\d,_]*)?(\.\d+)?([eE][-+]?\d+)?$")


class CompareError(ValueError):
    """A comparison that cannot be made as asked (a bad KPI, target or baseline); str() is one line."""


# --------------------------------------------------------------------------------------
# Targets


@dataclass(frozen=True)
class Target:
    """A condition a scenario should meet in each replication: `kpi` `operator` `threshold`,
    the threshold being the baseline's value in the same replication when None."""

    kpi: str
    operator: Operator
    threshold: float | None
    text: str

    @property
    def against_baseline(self) -> bool:
        return self.threshold is None

    @property
    def measure(self) -> Measure:
        return kpi(self.kpi)

    def met(self, value: float, reference: float) -> bool:
        """Whether `value` meets the target; `reference` is the threshold (the baseline's
        value of the same replication for a target against the baseline)."""
        return bool(value <= reference if self.operator == "<=" else value >= reference)

    def describe(self) -> str:
        """'Acute bed occupancy, average ≤ 92.0%' or 'System spend ≤ baseline'."""
        bound = "baseline" if self.threshold is None else self.measure.format(self.threshold)
        return f"{self.measure.label} {_SYMBOL[self.operator]} {bound}"


def _measure(name: str, where: str) -> Measure:
    try:
        return kpi(name)
    except KeyError:
        names = [m.name for m in KPIS]
        close = [n for n in names if name in n][:3] or difflib.get_close_matches(name, names, n=1)
        hint = (
            f" (did you mean {' or '.join(repr(c) for c in close)}?)"
            if close
            else " (the KPIs are listed in docs/kpis.md)"
        )
        raise CompareError(f"{where}: unknown KPI {name!r}{hint}") from None


def parse_target(text: str) -> Target:
    """A target from 'KPI<=VALUE', 'KPI>=VALUE' or 'KPI<=baseline' (or '>=baseline').

    VALUE is in the KPI's own scale; a proportion also takes a percentage, '92%' (0.92 of
    a fraction, 92 of a `_pct` column). Money may carry '£' and thousands commas.
    """
    match = _TARGET.match(text)
    if match is None:
        raise CompareError(
            f"target {text!r}: expected KPI<=VALUE, KPI>=VALUE or KPI<=baseline "
            "(for example 'acute_occupancy_mean<=92%')"
        )
    name, operator, raw = match.groups()
    where = f"target {text!r}"
    measure = _measure(name, where)
    op: Operator = "<=" if operator == "<=" else ">="
    if raw.lower() == BASELINE_NAME:
        return Target(name, op, None, text)
    number = raw.removesuffix("%").strip()
    percent = number != raw
    number = number.removeprefix("£") if measure.kind == "money" else number
    if not _NUMBER.match(number) or not any(c.isdigit() for c in number):
        raise CompareError(f"{where}: {raw!r} is not a number or 'baseline'")
    value = float(number.replace(",", "").replace("_", ""))
    if not math.isfinite(value):
        raise CompareError(f"{where}: {raw!r} is not a finite number")
    if percent:
        if measure.kind != "proportion":
            raise CompareError(f"{where}: a percentage suits only a proportion; {name} is in {measure.unit}")
        if measure.scale == FRACTION:
            value /= 100.0
    return Target(name, op, value, text)


# --------------------------------------------------------------------------------------
# The comparison


@dataclass(frozen=True)
class KpiComparison:
    """One KPI of one scenario beside the baseline.

    `difference` is the paired difference scenario − baseline over `paired` replications
    (None for the baseline itself and when no replication pairs); `unpaired` counts the
    scenario's replications with no baseline partner. `needed` is the confidence-interval
    method's answer for `precision`; `projected` the number to plan by when `needed.n` is
    None (the replications so far have not reached the precision).
    """

    scenario: str
    kpi: str
    interval: Interval
    difference: PairedDifference | None
    paired: int
    unpaired: int
    verdict: str
    needed: ReplicationsNeeded
    projected: int | None

    @property
    def measure(self) -> Measure:
        return kpi(self.kpi)


@dataclass(frozen=True)
class TargetShare:
    """How often one scenario met one target: `met` of `replications` (those paired with
    the baseline's for a target against it; the baseline has no share of those). `met` is
    None when the KPI is undefined (null) in one of them: a share that left such
    replications out would flatter the plan."""

    scenario: str
    target: Target
    replications: int
    met: int | None

    @property
    def share(self) -> float | None:
        if self.met is None or self.replications == 0:
            return None
        return self.met / self.replications


@dataclass(frozen=True)
class Comparison:
    """Every scenario of a results folder beside the baseline: rows by KPI, then scenario
    (the baseline first), and the targets' shares."""

    source: str
    baseline: str
    baseline_reason: str
    scenarios: tuple[str, ...]
    replications: Mapping[str, tuple[int, ...]]
    kpis: tuple[str, ...]
    rows: tuple[KpiComparison, ...]
    target_shares: tuple[TargetShare, ...]
    precision: float
    confidence: float

    def notes(self) -> list[str]:
        """What a reader needs to read the tables right: the baseline, and the pairing."""
        n_base = len(self.replications[self.baseline])
        lines = [
            f"Baseline: {self.baseline} ({self.baseline_reason}), {_count(n_base, 'replication')}.",
        ]
        base = set(self.replications[self.baseline])
        for scenario in self.scenarios[1:]:
            reps = self.replications[scenario]
            paired = [r for r in reps if r in base]
            alone = [r for r in reps if r not in base]
            line = f"{scenario}: {len(paired)} of {_count(len(reps), 'replication')} paired with the baseline"
            if alone:
                line += f" (no baseline partner for replication{'s' if len(alone) > 1 else ''} "
                line += f"{_listed(alone)}: left out of the differences)"
            lines.append(line + ".")
        if len(self.scenarios) == 1:
            lines.append("Only one scenario: nothing to compare it with.")
        return lines

    def most_replications_needed(self) -> int | None:
        """The replications that would bring every KPI shown within the precision (the
        largest of the reached and projected numbers), or None if none can be told."""
        counts = [_needed_count(row) for row in self.rows]
        known = [n for n in counts if n is not None]
        return max(known) if known else None

    def table(self) -> pa.Table:
        """The comparison as a tidy table: one row per KPI and scenario (null, never NaN,
        where a value is undefined)."""
        import pyarrow as pa

        columns: dict[str, list[Any]] = {name: [] for name, _ in _COLUMNS}
        for row in self.rows:
            m = row.measure
            d = row.difference.difference if row.difference is not None else None
            values = {
                "scenario": row.scenario,
                "baseline": self.baseline,
                "kpi": row.kpi,
                "label": m.label,
                "unit": m.unit,
                "scale": m.scale,
                "better": m.better,
                "replications": row.interval.n,
                "mean": row.interval.mean,
                "ci_lower": row.interval.lower,
                "ci_upper": row.interval.upper,
                "paired_replications": None if row.scenario == self.baseline else row.paired,
                "unpaired_replications": None if row.scenario == self.baseline else row.unpaired,
                "difference": None if d is None else d.mean,
                "difference_lower": None if d is None else d.lower,
                "difference_upper": None if d is None else d.upper,
                "p_value": None if row.difference is None else row.difference.p_value,
                "significant": _significant(row.difference),
                "verdict": row.verdict,
                "confidence": self.confidence,
                "precision": self.precision,
                "relative_half_width": row.interval.relative_half_width,
                "replications_needed": row.needed.n,
                "replications_projected": row.projected,
            }
            for name, value in values.items():
                columns[name].append(_null_if_nan(value))
        return pa.Table.from_pydict(columns, schema=_schema(_COLUMNS, self._metadata()))

    def targets_table(self) -> pa.Table:
        """The targets' shares as a tidy table: one row per target and scenario."""
        import pyarrow as pa

        rows = [
            {
                "scenario": s.scenario,
                "baseline": self.baseline,
                "target": s.target.text,
                "kpi": s.target.kpi,
                "label": s.target.measure.label,
                "operator": s.target.operator,
                "threshold": s.target.threshold,
                "against_baseline": s.target.against_baseline,
                "replications": s.replications,
                "met": s.met,
                "share": s.share,
            }
            for s in self.target_shares
        ]
        return pa.Table.from_pylist(rows, schema=_schema(_TARGET_COLUMNS, self._metadata()))

    def _metadata(self) -> dict[str, str]:
        return {
            "flowsim.table": "comparison",
            "flowsim.results": self.source,
            "flowsim.baseline": self.baseline,
            "flowsim.confidence": str(self.confidence),
            "flowsim.precision": str(self.precision),
        }


# The tidy tables' columns and their Arrow types (by alias: pyarrow loads on use).
_COLUMNS: tuple[tuple[str, str], ...] = (
    ("scenario", "string"),
    ("baseline", "string"),
    ("kpi", "string"),
    ("label", "string"),
    ("unit", "string"),
    ("scale", "string"),
    ("better", "string"),
    ("replications", "int64"),
    ("mean", "double"),
    ("ci_lower", "double"),
    ("ci_upper", "double"),
    ("paired_replications", "int64"),
    ("unpaired_replications", "int64"),
    ("difference", "double"),
    ("difference_lower", "double"),
    ("difference_upper", "double"),
    ("p_value", "double"),
    ("significant", "bool"),
    ("verdict", "string"),
    ("confidence", "double"),
    ("precision", "double"),
    ("relative_half_width", "double"),
    ("replications_needed", "int64"),
    ("replications_projected", "int64"),
)
_TARGET_COLUMNS: tuple[tuple[str, str], ...] = (
    ("scenario", "string"),
    ("baseline", "string"),
    ("target", "string"),
    ("kpi", "string"),
    ("label", "string"),
    ("operator", "string"),
    ("threshold", "double"),
    ("against_baseline", "bool"),
    ("replications", "int64"),
    ("met", "int64"),
    ("share", "double"),
)


def _schema(columns: Sequence[tuple[str, str]], metadata: Mapping[str, str]) -> pa.Schema:
    import pyarrow as pa

    return pa.schema([(name, pa.type_for_alias(alias)) for name, alias in columns], metadata=metadata)


def verdict(difference: PairedDifference | None, better: Literal["higher", "lower"] | None) -> str:
    """The paired difference in plain words, from the KPI's better direction:
    'better than baseline, significant', 'worse than baseline, significant', 'higher (or
    lower) than baseline, significant' where neither direction is better, or 'no
    significant difference'. Significant means the interval excludes zero."""
    if difference is None:
        return "no replication paired with the baseline"
    d = difference.difference
    if d.n < 2:
        return "cannot tell: needs 2 or more paired replications"
    if math.isnan(d.mean) or math.isnan(d.half_width):
        return "cannot tell: the KPI is undefined (null) in some replications"
    if not difference.significant:
        return "no significant difference"
    higher = d.mean > 0.0
    if better is None:
        word = "higher" if higher else "lower"
    else:
        word = "better" if higher == (better == "higher") else "worse"
    return f"{word} than baseline, significant"


def compare_kpis(
    kpis: pa.Table,
    *,
    baseline: str | None = None,
    kpi_names: Iterable[str] | None = None,
    targets: Iterable[Target | str] = (),
    precision: float = DEFAULT_PRECISION,
    confidence: float = DEFAULT_CONFIDENCE,
    source: str = "",
) -> Comparison:
    """Compare every scenario of a kpis table (one row per scenario and replication) with
    the baseline.

    `baseline`: a scenario's name; by default the one named 'baseline', else the first
    alphabetically. `kpi_names`: KPIs to compare (default: the headline KPIs in the table;
    'all': every KPI in it); the targets' KPIs are added. `precision`: the relative
    half-width the replications check aims at.
    """
    if not precision > 0.0:
        raise CompareError(
            f"precision must be above 0 (a fraction of the mean, 0.05 for ±5%), got {precision}"
        )
    if not 0.0 < confidence < 1.0:
        raise CompareError(f"confidence must be between 0 and 1, got {confidence}")
    where = source or "the kpis table"
    for column in ("scenario", "replication"):
        if column not in kpis.column_names:
            raise CompareError(f"{where}: the kpis table has no {column!r} column")
    if kpis.num_rows == 0:
        raise CompareError(f"{where}: the kpis table has no rows")
    parsed = tuple(t if isinstance(t, Target) else parse_target(t) for t in targets)

    # Replications in order: the replications check reads them as run 0, 1, 2, ...
    kpis = kpis.sort_by([("scenario", "ascending"), ("replication", "ascending")])
    replications = _replications(kpis, where)
    names = sorted(replications)
    chosen, reason = _choose_baseline(names, baseline, where)
    scenarios = (chosen, *(s for s in names if s != chosen))
    wanted = _kpi_names(kpis, kpi_names, parsed, where)
    values = {name: _values(kpis, name, scenarios) for name in wanted}

    rows = []
    for name in wanted:
        measure = kpi(name)
        base = values[name][chosen]
        for scenario in scenarios:
            x = values[name][scenario]
            reps = replications[scenario]
            pairs = _pairs(reps, replications[chosen])
            difference = None
            if scenario != chosen and pairs:
                difference = paired_difference(
                    x[[i for i, _ in pairs]], base[[j for _, j in pairs]], confidence
                )
            interval = mean_ci(x, confidence)
            rows.append(
                KpiComparison(
                    scenario=scenario,
                    kpi=name,
                    interval=interval,
                    difference=difference,
                    paired=len(pairs),
                    unpaired=len(reps) - len(pairs),
                    verdict="baseline" if scenario == chosen else verdict(difference, measure.better),
                    needed=replications_needed(x, precision, confidence),
                    projected=_projection(x, interval, precision, confidence),
                )
            )

    shares = []
    for target in parsed:
        base = values[target.kpi][chosen]
        for scenario in scenarios:
            x = values[target.kpi][scenario]
            if target.threshold is None and scenario == chosen:
                continue  # the baseline against itself says nothing
            if target.threshold is None:
                pairs = _pairs(replications[scenario], replications[chosen])
                judged = [(x[i], base[j]) for i, j in pairs]
            else:
                judged = [(v, target.threshold) for v in x]
            undefined = any(math.isnan(v) or math.isnan(ref) for v, ref in judged)
            met = None if undefined else sum(1 for v, ref in judged if target.met(v, ref))
            shares.append(TargetShare(scenario, target, len(judged), met))

    return Comparison(
        source=source,
        baseline=chosen,
        baseline_reason=reason,
        scenarios=scenarios,
        replications=replications,
        kpis=wanted,
        rows=tuple(rows),
        target_shares=tuple(shares),
        precision=precision,
        confidence=confidence,
    )


def compare(
    root: str | os.PathLike[str],
    baseline: str | None = None,
    kpis: Iterable[str] | None = None,
    targets: Iterable[Target | str] = (),
    *,
    precision: float = DEFAULT_PRECISION,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Comparison:
    """Compare the scenarios of a results folder (its kpis tables) with the baseline;
    see `compare_kpis`. Raises `CompareError` or `flowsim.results.ResultsError`."""
    from flowsim.results import read_table

    # Parse the targets before reading anything, so a typo is reported first.
    parsed = [t if isinstance(t, Target) else parse_target(t) for t in targets]
    table = read_table(root, "kpis")
    return compare_kpis(
        table,
        baseline=baseline,
        kpi_names=kpis,
        targets=parsed,
        precision=precision,
        confidence=confidence,
        source=os.fspath(root),
    )


def _replications(kpis: pa.Table, where: str) -> dict[str, tuple[int, ...]]:
    """Each scenario's replication numbers, in the table's row order (checked unique)."""
    out: dict[str, list[int]] = {}
    for scenario, replication in zip(
        kpis.column("scenario").to_pylist(), kpis.column("replication").to_pylist(), strict=True
    ):
        if scenario is None or replication is None:
            raise CompareError(f"{where}: a row of the kpis table has no scenario or replication")
        reps = out.setdefault(str(scenario), [])
        if int(replication) in reps:
            raise CompareError(f"{where}: scenario {scenario!r} has replication {replication} twice")
        reps.append(int(replication))
    return {s: tuple(r) for s, r in out.items()}


def _choose_baseline(names: Sequence[str], baseline: str | None, where: str) -> tuple[str, str]:
    if baseline is not None:
        if baseline not in names:
            raise CompareError(
                f"{where}: no scenario {baseline!r} to use as the baseline; the scenarios are {', '.join(names)}"
            )
        return baseline, "chosen with --baseline"
    if BASELINE_NAME in names:
        return BASELINE_NAME, f"the scenario named {BASELINE_NAME!r}"
    return names[0], f"no scenario is named {BASELINE_NAME!r}, so the first alphabetically"


def _kpi_names(
    kpis: pa.Table, names: Iterable[str] | None, targets: Sequence[Target], where: str
) -> tuple[str, ...]:
    present = set(kpis.column_names)
    if names is None:
        wanted = [k for k in HEADLINE_KPIS if k in present]
    else:
        wanted = []
        for name in names:
            if name == ALL_KPIS:
                wanted.extend(m.name for m in KPIS if m.name in present)
                continue
            _measure(name, f"--kpi {name}")
            if name not in present:
                raise CompareError(f"{where}: KPI {name!r} is not in the results' kpis tables")
            wanted.append(name)
    for target in targets:
        if target.kpi not in present:
            raise CompareError(f"{where}: target {target.text!r}: KPI {target.kpi!r} is not in the results")
        wanted.append(target.kpi)
    unique = tuple(dict.fromkeys(wanted))
    if not unique:
        raise CompareError(f"{where}: no KPI of the registry is in the kpis table")
    return unique


def _values(kpis: pa.Table, name: str, scenarios: Sequence[str]) -> dict[str, np.ndarray]:
    """One KPI as float64 per scenario, in the table's row order; null becomes NaN, so that
    the statistics show it as undefined rather than dropping it."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    column = pc.cast(kpis.column(name), pa.float64()).to_numpy(zero_copy_only=False)
    scenario = np.asarray(kpis.column("scenario").to_pylist(), dtype=object)
    return {s: column[scenario == s] for s in scenarios}


def _pairs(reps: Sequence[int], base: Sequence[int]) -> list[tuple[int, int]]:
    """(index in the scenario, index in the baseline) of the replications both have."""
    where = {r: j for j, r in enumerate(base)}
    return [(i, where[r]) for i, r in enumerate(reps) if r in where]


def _significant(difference: PairedDifference | None) -> bool | None:
    if difference is None:
        return None
    d = difference.difference
    if d.n < 2 or math.isnan(d.mean) or math.isnan(d.half_width):
        return None
    return difference.significant


def _null_if_nan(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def _projection(x: np.ndarray, interval: Interval, precision: float, confidence: float) -> int | None:
    """Replications to plan by, or None where the mean is not clearly away from 0 (its
    interval holds 0): a precision relative to such a mean, a surplus near break-even say,
    would ask for millions of runs and mean nothing."""
    if interval.contains(0.0):
        return None
    return replications_projected(x, precision, confidence)


def _needed_count(row: KpiComparison) -> int | None:
    return row.needed.n if row.needed.n is not None else row.projected


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _listed(numbers: Sequence[int]) -> str:
    shown = [str(n) for n in numbers]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


# --------------------------------------------------------------------------------------
# How the comparison reads: terminal, text, Markdown, CSV and Parquet


def _shown(measure: Measure) -> Measure:
    """The measure as a mean over replications shows it: a count's mean with one decimal."""
    return replace(measure, decimals=1) if measure.kind == "count" and measure.decimals is None else measure


def _magnitude(measure: Measure, size: float) -> str:
    """An unsigned amount in the KPI's terms: percentage points for a proportion (never a
    relative change), pounds for money."""
    if measure.kind == "proportion":
        shown = 100.0 * size if measure.scale == FRACTION else size
        return f"{shown:.{1 if measure.decimals is None else measure.decimals}f} pp"
    decimals = _shown(measure).decimals or 0
    return f"£{size:,.{decimals}f}" if measure.kind == "money" else f"{size:,.{decimals}f}"


def format_interval(measure: Measure, interval: Interval) -> str:
    """'84.0% ± 3.0 pp': the mean ± the half-width of its interval (the mean alone from
    one replication)."""
    shown = _shown(measure).format(interval.mean)
    if math.isnan(interval.half_width):
        return shown
    return f"{shown} ± {_magnitude(measure, interval.half_width)}"


def format_difference(measure: Measure, value: float) -> str:
    """A signed difference: '+6.7 pp' for a proportion, '-£12,345' for money, '0' when it
    rounds to nothing."""
    if math.isnan(value):
        return NO_VALUE
    size = _magnitude(measure, abs(value))
    if not any(c in "123456789" for c in size):
        return size.replace("£", "")
    return ("-" if value < 0 else "+") + size


def _difference_text(row: KpiComparison) -> str:
    if row.difference is None:
        return NO_VALUE
    d = row.difference.difference
    shown = format_difference(row.measure, d.mean)
    if math.isnan(d.half_width):
        return shown
    return f"{shown} ± {_magnitude(row.measure, d.half_width)}"


def _needed_text(row: KpiComparison) -> str:
    if row.needed.n is not None:
        return str(row.needed.n)
    return NO_VALUE if row.projected is None else f"≈{row.projected:,}"


def _kpi_text(measure: Measure) -> str:
    """The label, with the unit where the values do not show it (as % or £ do)."""
    if measure.kind in ("proportion", "money") or measure.unit.lower() in measure.label.lower():
        return measure.label
    return f"{measure.label} ({measure.unit})"


def _share_text(share: TargetShare) -> str:
    if share.met is None:
        return f"{NO_VALUE} (undefined in some)"
    if share.replications == 0:
        return f"{NO_VALUE} (none paired)"
    return f"{share.share:.0%} ({share.met} of {share.replications})"


def _headers(c: Comparison) -> list[str]:
    level = f"{c.confidence:.0%}"
    return [
        "KPI",
        "Scenario",
        "n",
        f"Mean ± {level} CI",
        f"Difference from baseline ± {level} CI",
        "Verdict",
        f"n for ±{c.precision:.0%}",
    ]


def _body(c: Comparison) -> list[tuple[bool, list[str]]]:
    """(starts a KPI, cells) for each row of the main table."""
    out = []
    for row in c.rows:
        first = row.scenario == c.baseline
        out.append(
            (
                first,
                [
                    _kpi_text(row.measure) if first else "",
                    row.scenario,
                    str(row.interval.n),
                    format_interval(row.measure, row.interval),
                    _difference_text(row),
                    row.verdict,
                    _needed_text(row),
                ],
            )
        )
    return out


def _target_rows(c: Comparison) -> list[list[str]]:
    by_target: dict[str, dict[str, TargetShare]] = {}
    for share in c.target_shares:
        by_target.setdefault(share.target.text, {})[share.scenario] = share
    rows = []
    for shares in by_target.values():
        target = next(iter(shares.values())).target
        rows.append(
            [target.describe(), *(_share_text(shares[s]) if s in shares else NO_VALUE for s in c.scenarios)]
        )
    return rows


def _legend(c: Comparison) -> list[str]:
    level = f"{c.confidence:.0%}"
    lines = [
        f"n: replications. ± gives the half-width of the {level} t interval over replications. Differences are "
        "scenario minus baseline, replication by replication; significant when the interval excludes zero. "
        "pp: percentage points.",
        f"n for ±{c.precision:.0%}: the fewest replications whose {level} interval is within ±{c.precision:.0%} "
        "of the mean (the confidence-interval method, Hoad, Robinson and Davies 2010); ≈ marks a projection "
        f"from the replications so far, which have not reached it; {NO_VALUE} where the mean is 0 or undefined, "
        "or its interval holds 0 (a precision relative to it means nothing).",
    ]
    most = c.most_replications_needed()
    if most is not None:
        row = max((r for r in c.rows if _needed_count(r) == most), key=lambda r: r.kpi)
        lines.append(
            f"To reach ±{c.precision:.0%} on every KPI shown, run at least {most:,} replications "
            f"(the most, for {row.measure.label} in {row.scenario})."
        )
    if c.target_shares:
        lines.append(
            "Targets: the share of replications in which the scenario meets each (against the baseline: "
            "replication by replication); the chance that the plan works."
        )
    return lines


_VERDICT_STYLE = {"better": "green", "worse": "red", "higher": "yellow", "lower": "yellow"}


def print_comparison(c: Comparison, console: Console) -> None:
    """The comparison as rich tables, then its notes."""
    from rich.table import Table
    from rich.text import Text

    title = f"{c.source or 'Results'}: scenarios beside the baseline, {c.baseline}"
    table = Table(title=title, title_justify="left")
    for i, header in enumerate(_headers(c)):
        table.add_column(header, justify="right" if i in (2, 3, 4, 6) else "left", no_wrap=i in (1, 2, 5))
    body = _body(c)
    for i, (_, cells) in enumerate(body):
        last = i + 1 == len(body) or body[i + 1][0]
        style = _VERDICT_STYLE.get(cells[5].split(" ")[0], "") if cells[5].endswith("significant") else ""
        texts = [Text(cell) for cell in cells]
        texts[5].stylize(style)
        table.add_row(*texts, end_section=last)
    console.print(table)
    if c.target_shares:
        targets = Table(title="Targets: share of replications meeting each", title_justify="left")
        targets.add_column("Target")
        for scenario in c.scenarios:
            targets.add_column(scenario, justify="right")
        for cells in _target_rows(c):
            targets.add_row(*(Text(cell) for cell in cells))
        console.print(targets)
    for line in [*c.notes(), *_legend(c)]:
        console.print(line, markup=False, highlight=False)


def render_text(c: Comparison, width: int = 160) -> str:
    """The terminal tables as plain text (no colour), for a file."""
    from rich.console import Console

    buffer = io.StringIO()
    print_comparison(
        c, Console(file=buffer, width=width, no_color=True, highlight=False, force_terminal=False)
    )
    return buffer.getvalue()


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _md_table(header: Sequence[str], rows: Iterable[Sequence[str]], align: str) -> list[str]:
    lines = [
        "| " + " | ".join(_md_cell(h) for h in header) + " |",
        "| " + " | ".join("---:" if a == "r" else "---" for a in align) + " |",
    ]
    lines.extend("| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in rows)
    return lines


def render_markdown(c: Comparison) -> str:
    """The comparison as a Markdown section: notes, the KPI table, the targets table."""
    lines = [f"## Scenarios beside the baseline, {c.baseline}", ""]
    if c.source:
        lines += [f"Results: `{c.source}`.", ""]
    lines += [f"- {note}" for note in c.notes()]
    lines.append("")
    lines += _md_table(_headers(c), (cells for _, cells in _body(c)), "llrrrlr")
    if c.target_shares:
        lines += ["", "### Targets: share of replications meeting each", ""]
        lines += _md_table(["Target", *c.scenarios], _target_rows(c), "l" + "r" * len(c.scenarios))
    for paragraph in _legend(c):
        lines += ["", paragraph]
    return "\n".join(lines) + "\n"


def _csv_bytes(table: pa.Table) -> bytes:
    """CSV with a header row; null as an empty field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in table.to_pylist():
        writer.writerow(["" if v is None else v for v in row.values()])
    return buffer.getvalue().encode("utf-8")


def _parquet_bytes(table: pa.Table) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def targets_path(out: Path) -> Path:
    """Where the targets' shares go beside a CSV or Parquet comparison: OUT-targets.EXT."""
    return out.with_name(f"{out.stem}-targets{out.suffix}")


def render(c: Comparison, fmt: str) -> str:
    """The comparison as text to print: 'table', 'markdown' or 'csv' (its KPI table only)."""
    if fmt == "table":
        return render_text(c)
    if fmt == "markdown":
        return render_markdown(c)
    if fmt == "csv":
        return _csv_bytes(c.table()).decode("utf-8")
    raise CompareError(f"--format {fmt} cannot be printed; write it to a file with --out")


def write_comparison(c: Comparison, fmt: str, out: Path) -> list[Path]:
    """Write the comparison to `out` as `fmt` (one of FORMATS) and return the files
    written: for csv and parquet with targets, their shares go to `targets_path(out)`.

    Each file is replaced whole or not at all, so a failure leaves an earlier one intact.
    """
    if fmt not in FORMATS:
        raise CompareError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if out.is_dir():
        raise CompareError(f"{out}: is a folder; --out takes a file name")
    files: list[tuple[Path, bytes]]
    if fmt in ("table", "markdown"):
        files = [(out, render(c, fmt).encode("utf-8"))]
    else:
        encode = _csv_bytes if fmt == "csv" else _parquet_bytes
        files = [(out, encode(c.table()))]
        if c.target_shares:
            files.append((targets_path(out), encode(c.targets_table())))
    out.parent.mkdir(parents=True, exist_ok=True)
    for path, data in files:
        _replace_file(path, data)
    return [path for path, _ in files]


def _replace_file(path: Path, data: bytes) -> None:
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
