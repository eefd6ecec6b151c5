"""The validation report as Markdown: header, summary, tables and figure links.

Everything in it follows from the config, the code and the targets file, apart from the
lines giving the date, the machine and the timings.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from flowsim.validation.analytic import ALPHA, N_BATCHES, AnalyticChecks, TheoryCheck, critical_t
from flowsim.validation.calibration import FeatureResult, TargetResult
from flowsim.validation.fitted import fitted_parameters
from flowsim.validation.measures import MONTHLY, Replication, monthly

if TYPE_CHECKING:
    from flowsim.config.schema import FlowsimConfig

__all__ = ["ReportContext", "render"]

NO_VALUE = "—"


@dataclass(frozen=True)
class ReportContext:
    """What the report says about how it was made."""

    command: str
    config: FlowsimConfig
    config_label: str
    targets_label: str
    replications: Sequence[Replication]
    reused: int  # replications read from an earlier run rather than simulated now
    workers: int
    seconds: float
    config_path: str | None = None  # the config file, to list what was fitted
    history: str = ""  # how each mechanism changed the headline figures (history.md by the targets)


def fmt(x: float, spec: str) -> str:
    return NO_VALUE if x is None or not math.isfinite(x) else format(x, spec)


def interval_text(result: TargetResult | FeatureResult, spec: str) -> str:
    ci = result.interval
    if not (math.isfinite(ci.lower) and math.isfinite(ci.upper)):
        return NO_VALUE
    return f"{fmt(ci.lower, spec)} – {fmt(ci.upper, spec)}"


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    """A Markdown table; `align` has one letter per column, l or r (default: first left)."""
    align = align or "l" + "r" * (len(header) - 1)
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---:" if a == "r" else "---" for a in align) + " |",
    ]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(result: TargetResult) -> str:
    if not result.passed:
        return "FAIL"
    return "PASS" if result.interval_inside else "PASS †"


def _target_value(result: TargetResult, x: float) -> str:
    return fmt(x, result.target.format)


def summary(
    targets: Sequence[TargetResult],
    features: Sequence[FeatureResult],
    analytic: AnalyticChecks,
    conservation: Sequence[bool],
) -> str:
    """One paragraph: what passes, what departs, and whether the core's checks hold."""
    n = len(conservation)
    passed = [r for r in targets if r.passed]
    parts = [
        f"{len(passed)} of {len(targets)} calibration targets pass over {n} replication{'s' if n != 1 else ''}"
    ]
    failed = [r for r in targets if not r.passed]
    if failed:
        parts[-1] += "; the model misses " + "; ".join(
            f"{r.target.label}: {_target_value(r, r.interval.mean)} against "
            f"{_target_value(r, r.target.target)} {r.target.tolerance_text}"
            for r in failed
        )
    parts[-1] += "."
    marginal = [r for r in passed if not r.interval_inside]
    if marginal:
        parts.append(
            "For "
            + ", ".join(r.target.label for r in marginal)
            + " the mean passes but the 95% interval reaches past the tolerance band, so the pass is marginal."
        )
    judged = [f for f in features if f.agrees is not None]
    unmeasured = [f for f in features if not math.isfinite(f.interval.mean)]
    if judged:
        agree = sum(bool(f.agrees) for f in judged)
        parts.append(
            f"Of the {len(judged)} features of the era with an expected value or direction, {agree} "
            "meet it (several are inputs, marked so in the second table, and only check that the "
            "mechanism passes them through)."
        )
        departures = [f for f in judged if not f.agrees]
        if departures:
            parts.append(
                "Departures worth a look: "
                + "; ".join(
                    f"{f.feature.label}: {fmt(f.interval.mean, f.feature.format)} "
                    f"(expected {f.feature.expect.text if f.feature.expect else ''})"
                    for f in departures
                )
                + "."
            )
    if unmeasured:
        parts.append(
            f"{len(unmeasured)} feature{'s' if len(unmeasured) != 1 else ''} cannot be measured on this run: "
            + "; ".join(f.feature.label for f in unmeasured)
            + " (the run is too short for its seasons or year-on-year drift, or a replication has nothing "
            "to measure, such as no 12-hour waits)."
        )
    if analytic.passed:
        parts.append(
            "The core matches Erlang C and Erlang B within sampling error and Little's law within "
            f"2% in every pool, and the compiled core and its Python twin are {analytic.twins}."
        )
    else:
        parts.append(f"{analytic.failures} analytic check(s) of the core fail; see the section below.")
    failures = sum(not ok for ok in conservation)
    parts.append(
        "Conservation held in every replication."
        if failures == 0
        else f"Conservation FAILED in {failures} of {n} replications."
    )
    return " ".join(parts)


def _theory_rows(checks: Sequence[TheoryCheck]) -> list[list[str]]:
    return [
        [
            c.system,
            c.quantity,
            f"{c.simulated.mean:.4f} ± {c.simulated.standard_error:.4f}",
            f"{c.theory:.4f}",
            f"{c.t:+.2f}",
            f"{c.p:.3f}",
            "pass" if c.passed else "FAIL",
        ]
        for c in checks
    ]


# National monthly figures of 2016/17 the report shows beside the model's (month -> measure -> text).
NATIONAL_MONTHLY: dict[int, dict[str, str]] = {
    # Delayed beds: England's a day (all beds) x 67% in acute beds x 2.17% (DTOC statistics).
    10: {"dtoc_beds": "94 (6,455 a day in England)"},
    12: {"ae_4h_pct": "86.2"},
    1: {"ae_4h_pct": "85.1", "dtoc_beds": "92 (197,054 days in England)"},
    2: {"dtoc_beds": "97 (6,660 a day in England)"},
    3: {"occupancy_pct": "91.4 (Jan–Mar, KH03)"},
}
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _monthly_table(reps: Sequence[Replication]) -> str:
    by_rep = [monthly(rep) for rep in reps]
    months = [m for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3) if all(m in b for b in by_rep)]
    header = ["month"]
    for _, label in MONTHLY:
        header += [label, "England 2016/17"]
    rows = []
    for m in months:
        row = [_MONTH_NAMES[m - 1]]
        for key, _ in MONTHLY:
            values = [b[m][key] for b in by_rep]
            spec = ".1f" if key != "emergency_admissions" else ".0f"
            row += [fmt(float(np.mean(values)), spec), NATIONAL_MONTHLY.get(m, {}).get(key, NO_VALUE)]
        rows.append(row)
    return md_table(header, rows, "l" + "rl" * len(MONTHLY))


def render(
    context: ReportContext,
    targets: Sequence[TargetResult],
    features: Sequence[FeatureResult],
    analytic: AnalyticChecks,
    figures: Sequence[tuple[str, str]],
    figure_folder: str,
) -> str:
    from flowsim.config.loader import config_hash
    from flowsim.results import environment

    config = context.config
    reps = context.replications
    conservation = [bool(rep.kpis["conservation_ok"]) for rep in reps]
    env = environment()
    commit = env["git_commit"] or "unknown"
    dirty = " (working tree had uncommitted changes)" if env["git_dirty"] else ""
    walls = [rep.wall_seconds for rep in reps if math.isfinite(rep.wall_seconds)]
    lines: list[str] = []
    w = lines.append

    w("# Validation report")
    w("")
    w(
        f"Generated by `{context.command}`; do not edit by hand. Targets, tolerances and sources are in "
        f"`{context.targets_label}` (sources by the short names of `configs/data/SOURCES.md`); counts are per "
        "1.2 million people, measured after warm-up."
    )
    w("")
    w(
        f"- **Config:** `{context.config_label}` — {config.population.size:,} people, "
        f"{config.run.warmup_days} days warm-up from {config.run.start_date}, then {config.run.horizon_days} days "
        f"measured from {config.run.start_date + dt.timedelta(days=config.run.warmup_days)}"
    )
    w(f"- **Config sha256:** `{config_hash(config)}`")
    w(f"- **flowsim:** {env['flowsim_version']}, commit `{commit}`{dirty}; core: {env['core']}")
    w(
        f"- **Replications:** {len(reps)} (replication indices {', '.join(str(r.replication) for r in reps)}; seed {config.run.seed})"
    )
    w(f"- **Date:** {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    w(f"- **Machine:** {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    one = NO_VALUE
    if walls:
        lo, hi = min(walls), max(walls)
        one = f"{lo:.0f}" if round(lo) == round(hi) else f"{lo:.0f}–{hi:.0f}"
    reused = f"; {context.reused} replication(s) reused from an earlier run" if context.reused else ""
    w(
        f"- **Wall time:** {context.seconds:.0f} s in all ({context.workers} worker "
        f"process{'es' if context.workers > 1 else ''}; one replication {one} s{reused}; analytic checks "
        f"{analytic.seconds:.0f} s)"
    )
    w("")
    w("## Summary")
    w("")
    w(summary(targets, features, analytic, conservation))
    w("")
    w("## Calibration targets")
    w("")
    w(
        "Model mean over replications and its 95% t interval. A target passes when the mean lies within the "
        "tolerance; † marks a pass whose interval reaches past the tolerance band."
    )
    w("")
    rows = []
    for r in targets:
        t = r.target
        lo, hi = t.band
        rows.append(
            [
                t.label,
                _target_value(r, t.target),
                f"{t.tolerance_text} ({_target_value(r, lo)}–{_target_value(r, hi)})",
                _target_value(r, r.interval.mean),
                interval_text(r, t.format),
                verdict(r),
                t.source,
            ]
        )
    w(
        md_table(
            ["measure", "target", "tolerance", "model mean", "95% CI", "pass/fail", "source"], rows, "lrrrrll"
        )
    )
    w("")
    w("Per replication:")
    w("")
    w(
        md_table(
            ["measure"] + [f"rep {rep.replication}" for rep in reps],
            [[r.target.label] + [_target_value(r, v) for v in r.values] for r in targets],
        )
    )
    w("")
    fitted = fitted_parameters(context.config_path) if context.config_path else []
    if fitted:
        w("## What was fitted")
        w("")
        w(
            f"The parameters of `{context.config_label}` marked `cal.`: each was set by hand, run against the "
            "targets above (one to three replications a try), to the figure its note names; everything else is "
            "an input from a source or an assumption graded in its comment. A target whose figure a fitted "
            "parameter was tuned to is a check of the fit, not independent evidence; the features below were "
            "not tuned to, except where their *how* column says so."
        )
        w("")
        rows = [
            [f"`{key}`", f"`{value}`" if value else NO_VALUE, note.replace("|", "/")]
            for key, value, note in fitted
        ]
        w(md_table(["parameter", "value", "fitted to (the config's note)"], rows, "lll"))
        w("")
    if context.history.strip():
        w("## How each mechanism changed the headline figures")
        w("")
        w(context.history.strip())
        w("")
    w("## Other features of the era (not tuned to)")
    w("")
    w(
        "Published features of 2014–2017 beside the model's figure, without a verdict. *How the model gets it* "
        "says whether the figure is an input passed through (a check of the mechanism, not independent "
        "evidence), a calibrated parameter, or emergent. Winter is January–March, summer June–August, of the "
        "measured window; *expected* is what the summary checks the mean against."
    )
    w("")
    rows = [
        [
            f.feature.label,
            f.feature.reference or NO_VALUE,
            fmt(f.interval.mean, f.feature.format),
            interval_text(f, f.feature.format),
            f.feature.expect.text if f.feature.expect else NO_VALUE,
            f.feature.how,
            f.feature.source or NO_VALUE,
        ]
        for f in features
    ]
    w(
        md_table(
            ["measure", "reference", "model mean", "95% CI", "expected", "how the model gets it", "source"],
            rows,
            "llrrlll",
        )
    )
    w("")
    w(
        "Notes. The readmission figures are the KPIs `readmissions_30d_65plus_pct` and `readmissions_30d_pct` "
        "(30 days); the national 65+ figure counts 28 days. National delayed-transfer counts start when a "
        "patient is declared ready for transfer; the model counts from medically fit and charges the assessment "
        "to whoever assesses for the service awaited (`pathways.delay_reasons`), which national returns may count "
        "differently. Its responsibility shares are of the reasons it represents (assessment, further non-acute "
        "NHS care, residential and nursing homes, care packages at home); community equipment, patient or family "
        "choice, disputes and housing (about a fifth of delayed days nationally) have no mechanism. The drift rows "
        "compare the "
        "last 30 days of the run with the same calendar days a year earlier, which fall in the warm-up; a "
        "stationary footprint would show no change beyond national growth."
    )
    w("")
    w("## Month by month")
    w("")
    w(
        "The year's shape: each measure's mean over replications, by calendar month of the measured window, "
        "beside the national figure for that month of 2016/17 where the report has one (NHS England A&E and DTOC "
        "statistics, KH03; England scaled to 1.2 million for counts, and delayed beds to the 67% in acute beds). "
        "Not tuned to month by month: the winter wave's size was fitted to the January–March figures only."
    )
    w("")
    w(_monthly_table(reps))
    w("")
    w("## Analytic checks of the core")
    w("")
    w(
        f"Run live on the active core ({analytic.core}) with fixed seeds. Standard errors by batch means "
        f"({N_BATCHES} batches of consecutive arrivals, the first 5% dropped as warm-up); t = (simulated − "
        f"theory) / SE has {N_BATCHES - 1} degrees of freedom. A check passes unless the difference is "
        f"significant at the {ALPHA:g} level (|t| < {critical_t():.2f}): with seven such checks, a correct "
        "core shows a false failure in under 1% of seeds; a bias of about four standard errors (see the SE "
        "column) is caught. A failure should be confirmed on other seeds before it is read as a bug."
    )
    w("")
    header = ["system", "quantity", "simulated ± SE", "theory", "t", "p", "result"]
    w(
        f"**Erlang C** — one pool, Poisson arrivals, exponential stays, infinite queue "
        f"({analytic.sizes['erlang']:,} arrivals each):"
    )
    w("")
    w(md_table(header, _theory_rows(analytic.erlang_c), "llrrrrl"))
    w("")
    w(
        "**Erlang B** — loss system (`max_wait = 0`), blocking is insensitive to the stay distribution "
        f"beyond its mean ({analytic.sizes['erlang']:,} arrivals each):"
    )
    w("")
    w(md_table(header, _theory_rows(analytic.erlang_b), "llrrrrl"))
    w("")
    w(
        "**Little's law** — a three-pool network (acute 12 slots → community 4 or care home 6, direct "
        f"community admissions, three priorities, reneging electives, losses; {analytic.sizes['little']:,} "
        "arrivals), read part-way through with arrivals still coming. L is the core's time integral divided "
        "by the elapsed time; λ entries per hour; W the mean time per completed entry, read off the events. "
        "A row passes when L and λW agree within 2% and the integral equals the sum of the intervals read "
        "off the events (sample-path identity, to 1e-9)."
    )
    w("")
    w(
        md_table(
            ["pool", "quantity", "L", "λ (per h)", "W (h)", "λW", "L/λW − 1", "integral vs events", "result"],
            [
                [
                    r.pool,
                    r.quantity,
                    f"{r.L:.4f}",
                    f"{r.rate:.4f}",
                    f"{r.W:.4f}",
                    f"{r.rate * r.W:.4f}",
                    f"{100 * r.relative_error:+.2f}%",
                    f"{r.integral_error:.1e}",
                    "pass" if r.passed else "FAIL",
                ]
                for r in analytic.little
            ],
            "llrrrrrrl",
        )
    )
    w("")
    w(
        f"**Twins** — the compiled core and its Python twin on the same stream ({analytic.sizes['twins']:,} "
        f"arrivals, two capacity changes, 40 advances): {analytic.twins}"
        + (
            f" ({analytic.twin_events:,} events and the final stats compared bit for bit)."
            if analytic.twin_events
            else "."
        )
    )
    w("")
    w(
        "**Conservation** — the `conservation_ok` KPI of every replication (everyone counted every day; "
        "everyone flagged in hospital is on an open acute route):"
    )
    w("")
    w(
        md_table(
            ["replication", "conservation_ok"],
            [[str(rep.replication), "yes" if ok else "NO"] for rep, ok in zip(reps, conservation)],
            "ll",
        )
    )
    w("")
    w("## Figures")
    w("")
    for name, caption in figures:
        w(f"![{caption}]({figure_folder}/{name})")
        w("")
        w(f"*{caption}*")
        w("")
    return "\n".join(lines).rstrip() + "\n"
