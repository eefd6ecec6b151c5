"""Sweep designs: the samples of an experiment, as rows of {dotted path: value}.

Grid: every combination of the stated values. Latin hypercube and Sobol: points of
`scipy.stats.qmc` on the unit cube (Sobol as Saltelli's scheme via SALib, so that
`flowsim summarise` can compute Sobol indices), then each coordinate through its
parameter's distribution (uniform between low and high unless stated). Random: plain
draws, for probabilistic sensitivity analysis. A path whose value in the base config is
a count (an int) gets whole numbers.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from flowsim.sweep.spec import Parameter, Sweep

__all__ = ["draw_design", "salib_problem", "to_values"]


def salib_problem(names: list[str]) -> dict[str, Any]:
    """The SALib problem of a design: the unit cube (distributions are applied after)."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def _unit_points(sweep: Sweep) -> np.ndarray:
    from scipy.stats import qmc

    d = len(sweep.parameters)
    n = int(sweep.samples or 0)
    if sweep.design == "lhs":
        return qmc.LatinHypercube(d=d, seed=sweep.seed).random(n)
    if sweep.design == "sobol":
        from SALib.sample import sobol

        names = list(sweep.parameters)
        return np.asarray(
            sobol.sample(salib_problem(names), n, calc_second_order=False, scramble=True, seed=sweep.seed)
        )
    return np.random.default_rng(sweep.seed).random((n, d))


def to_values(parameter: Parameter, u: np.ndarray) -> np.ndarray:
    """Unit-cube coordinates through the parameter's distribution (inverse CDF)."""
    from scipy import stats

    u = np.clip(u, 1e-12, 1 - 1e-12)
    kind = parameter.distribution or "uniform"
    if kind == "uniform":
        assert parameter.low is not None and parameter.high is not None
        return parameter.low + u * (parameter.high - parameter.low)
    if kind == "normal":
        return np.asarray(stats.norm.ppf(u, loc=parameter.mean, scale=parameter.sd))
    if kind == "lognormal":
        assert parameter.mean is not None and parameter.cv is not None
        sigma2 = np.log1p(parameter.cv**2)
        mu = np.log(parameter.mean) - sigma2 / 2
        return np.asarray(np.exp(mu + np.sqrt(sigma2) * stats.norm.ppf(u)))
    if kind == "triangular":
        assert parameter.low is not None and parameter.high is not None and parameter.mode is not None
        width = parameter.high - parameter.low
        c = (parameter.mode - parameter.low) / width
        return np.asarray(stats.triang.ppf(u, c, loc=parameter.low, scale=width))
    low = 0.0 if parameter.low is None else parameter.low
    high = 1.0 if parameter.high is None else parameter.high
    return low + (high - low) * np.asarray(stats.beta.ppf(u, parameter.alpha, parameter.beta))


def _as_type(value: Any, start: Any) -> Any:
    """Whole numbers for a count; plain Python floats otherwise (rounded to 12 significant
    figures, so that the value in a config and in a column read the same)."""
    if isinstance(start, int) and not isinstance(start, bool) and isinstance(value, float):
        return int(round(value))
    if isinstance(value, (float, np.floating)):
        return float(f"{float(value):.12g}")
    if isinstance(value, np.integer):
        return int(value)
    return value


def draw_design(sweep: Sweep, start: Mapping[str, Any]) -> tuple[list[dict[str, Any]], np.ndarray | None]:
    """(rows, unit points): one row of {path: value} per sample; unit points for the
    non-grid designs (what Sobol indices are computed on)."""
    names = list(sweep.parameters)
    if sweep.design == "grid":
        levels = []
        for name in names:
            p = sweep.parameters[name]
            if p.values is not None:
                levels.append(list(p.values))
            else:
                assert p.low is not None and p.high is not None and p.levels is not None
                levels.append([float(v) for v in np.linspace(p.low, p.high, p.levels)])
        rows = [
            {n: _as_type(v, start.get(n)) for n, v in zip(names, combo, strict=True)}
            for combo in itertools.product(*levels)
        ]
        return rows, None
    unit = _unit_points(sweep)
    columns = {n: to_values(sweep.parameters[n], unit[:, i]) for i, n in enumerate(names)}
    rows = [{n: _as_type(float(columns[n][k]), start.get(n)) for n in names} for k in range(len(unit))]
    return rows, unit
