"""The validation report's figures (PNG, matplotlib: the optional `report` extra).

Each figure is drawn from the daily tables of the replications, with the calibration
target it illustrates as a reference line when the targets file has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from flowsim.validation.calibration import TargetResult
from flowsim.validation.measures import DAYS_A_YEAR, PEOPLE, Replication

__all__ = ["draw_figures"]

DPI = 100
PNG_METADATA = {"Software": None}  # no version string in the file: same figure, same bytes


def _stack(replications: Sequence[Replication], name: str) -> np.ndarray:
    return np.stack([np.asarray(rep.daily[name], dtype=np.float64) for rep in replications])


def _rolling(x: np.ndarray, days: int = 7) -> np.ndarray:
    if x.size < days:
        return x
    mean = np.convolve(x, np.ones(days) / days, mode="valid")
    return np.concatenate([np.full(days - 1, np.nan), mean])


def _target(results: Sequence[TargetResult], kpi: str) -> float | None:
    return next((r.target.target for r in results if r.target.kpi == kpi), None)


def draw_figures(
    replications: Sequence[Replication], targets: Sequence[TargetResult], folder: Path
) -> list[tuple[str, str]]:
    """Draw every figure into `folder`; return (file name, caption) of each, in order."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    from flowsim.metrics.registry import HIGH_OCCUPANCY

    folder.mkdir(parents=True, exist_ok=True)
    drawn: list[tuple[str, str]] = []
    daily = replications[0].daily
    dates = np.asarray(daily["date"]).astype("datetime64[D]")
    warm = np.asarray(daily["warmup"]).astype(bool)
    warm_end = dates[warm][-1] + np.timedelta64(1, "D") if warm.any() else None

    with plt.rc_context({"font.size": 8, "axes.titlesize": 9}):

        def save(fig: Any, axes: Sequence[Any], name: str, caption: str, dated: bool = True) -> None:
            for ax in axes:
                if dated:
                    if warm_end is not None:
                        ax.axvspan(dates[0], warm_end, color="0.9", zorder=0, label="_warm-up")
                    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
                    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
                ax.grid(alpha=0.3)
            fig.tight_layout()
            fig.savefig(folder / name, dpi=DPI, metadata=PNG_METADATA)
            plt.close(fig)
            drawn.append((name, caption))

        # Acute occupancy, day by day.
        occupancy = 100.0 * _stack(replications, "acute_occupancy")
        fig, ax = plt.subplots(figsize=(7, 2.8))
        for row in occupancy:
            ax.plot(dates, row, color="tab:blue", alpha=0.25, lw=0.6)
        ax.plot(dates, occupancy.mean(axis=0), color="tab:blue", lw=1.2, label="model (mean of replications)")
        ax.axhline(100 * HIGH_OCCUPANCY, color="tab:red", ls="--", lw=1, label=f"{100 * HIGH_OCCUPANCY:g}%")
        target = _target(targets, "acute_occupancy_mean")
        if target is not None:
            ax.axhline(target, color="0.3", ls=":", lw=1, label=f"target mean {target:g}%")
        ax.set_ylabel("G&A occupancy, %")
        ax.set_title("Daily acute (G&A) occupancy; grey: warm-up")
        ax.legend(loc="lower left", fontsize=7, ncol=3)
        save(
            fig,
            [ax],
            "occupancy.png",
            f"Daily acute occupancy over the run, with the {100 * HIGH_OCCUPANCY:g}% line (grey: warm-up).",
        )

        # A&E attendances and the 4-hour measure (by day of arrival, as the KPI counts it).
        attendances = (
            _stack(replications, "ae_attendances") * PEOPLE / _stack(replications, "population")
        ).mean(axis=0)
        within, known = _stack(replications, "ae_within_4h"), _stack(replications, "ae_4h_known")
        four_hours = 100.0 * within.sum(axis=0) / np.maximum(known.sum(axis=0), 1.0)
        fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 4), sharex=True)
        a1.plot(dates, attendances, color="tab:green", lw=0.5, alpha=0.6, label="daily")
        a1.plot(dates, _rolling(attendances), color="tab:green", lw=1.3, label="7-day mean")
        target = _target(targets, "ae_attendances")
        if target is not None:
            a1.axhline(
                target / DAYS_A_YEAR,
                color="0.3",
                ls=":",
                lw=1,
                label=f"target ~{target / DAYS_A_YEAR:,.0f} a day",
            )
        a1.set_ylabel("attendances a day\nper 1.2 million")
        a1.set_title("A&E attendances and 4-hour performance")
        a1.legend(loc="lower left", fontsize=7, ncol=3)
        a2.plot(dates, four_hours, color="tab:purple", lw=0.5, alpha=0.6, label="daily")
        a2.plot(dates, _rolling(four_hours), color="tab:purple", lw=1.3, label="7-day mean")
        target = _target(targets, "ae_4h_pct")
        if target is not None:
            a2.axhline(target, color="0.3", ls=":", lw=1, label=f"target {target:g}%")
        a2.set_ylabel("left within 4 h, %")
        a2.legend(loc="lower left", fontsize=7, ncol=3)
        save(
            fig,
            [a1, a2],
            "ae.png",
            "Daily A&E attendances (per 1.2 million) and % of arrivals leaving within 4 hours.",
        )

        # Delayed beds by the pathway awaited.
        fig, ax = plt.subplots(figsize=(7, 2.8))
        parts = [_rolling(_stack(replications, f"dtoc_beds_{p}").mean(axis=0)) for p in ("p1", "p2", "p3")]
        ok = np.isfinite(parts[0])
        ax.stackplot(
            dates[ok],
            *[x[ok] for x in parts],
            labels=["P1 home with support", "P2 community bed", "P3 care home"],
            colors=["tab:orange", "tab:cyan", "tab:brown"],
            alpha=0.8,
        )
        target = _target(targets, "dtoc_share_of_beds")
        if target is not None:
            beds = _stack(replications, "acute_beds").mean(axis=0)
            ax.plot(
                dates,
                target / 100.0 * beds,
                color="0.2",
                ls=":",
                lw=1,
                label=f"target {target:g}% of G&A beds",
            )
        ax.set_ylabel("delayed beds (7-day mean)")
        ax.set_title("Delayed transfers of care in acute beds, by pathway awaited")
        ax.legend(loc="upper left", fontsize=7, ncol=2)
        save(
            fig,
            [ax],
            "dtoc.png",
            "Beds occupied by delayed (medically fit) patients, by the pathway they await (7-day mean).",
        )

        # Discharge pathway shares against their targets.
        rows = [r for r in targets if r.target.kpi.startswith("pathway_share_")]
        if rows:
            fig, ax = plt.subplots(figsize=(5, 2.8))
            x = np.arange(len(rows))
            errors = np.array(
                [
                    [r.interval.mean - r.interval.lower, r.interval.upper - r.interval.mean]
                    if np.isfinite(r.interval.half_width)
                    else [0.0, 0.0]
                    for r in rows
                ]
            ).T
            ax.bar(
                x - 0.2,
                [r.target.target for r in rows],
                0.4,
                yerr=[r.target.half_band for r in rows],
                capsize=3,
                color="0.7",
                label="target ± tolerance",
            )
            ax.bar(
                x + 0.2,
                [r.interval.mean for r in rows],
                0.4,
                yerr=errors,
                capsize=3,
                color="tab:blue",
                label="model, 95% CI",
            )
            ax.set_xticks(x, [r.target.kpi.removeprefix("pathway_share_").upper() for r in rows])
            ax.set_ylabel("% of acute discharges")
            ax.set_title("Discharge pathway shares")
            ax.legend(fontsize=7)
            save(
                fig,
                [ax],
                "pathways.png",
                "Discharge pathway shares P0–P3: target (± tolerance) and model (95% CI over replications).",
                dated=False,
            )
    return drawn
