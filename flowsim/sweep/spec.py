"""Experiment specs (`experiments/*.yaml`): what to run, read and checked before anything runs.

A spec names a base config, scenarios (config files or inline overrides, or footprints
scaled to a population), an optional sweep over dotted config paths (grid, Latin
hypercube, Sobol or random draws from distributions), the replications, one root seed and
the tables to keep. Every run it implies is a (scenario, sample, replication); its config
is the base config with the same dotted overrides `flowsim run --set` takes, validated by
the config schema, so a path that does not exist or a value of the wrong type is one line
naming the spec's file, line and key, before any run starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, model_validator

from flowsim.config.loader import ConfigError, canonical_json, key_lines, load_config
from flowsim.config.schema import Strict, _error

if TYPE_CHECKING:
    import numpy as np

    from flowsim.config.schema import FlowsimConfig

__all__ = ["Cell", "Experiment", "ExperimentSpec", "Parameter", "load_experiment", "SAMPLE_MARK"]

# A swept run's scenario folder is `<scenario>.s<sample>` (see docs/experiments.md), so
# spec scenario names keep to letters, digits, '_' and '-'.
SAMPLE_MARK = ".s"
SpecName = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_-]+$")]
Value = float | int | bool | str
MAX_RUNS = 100_000


class Parameter(Strict):
    """One swept config path: grid `values` (or `levels` between `low` and `high`), a
    `low`–`high` range (uniform), or a `distribution` for probabilistic sensitivity analysis."""

    values: Annotated[list[Value], Field(min_length=1, max_length=1000)] | None = None
    low: float | None = None
    high: float | None = None
    levels: Annotated[int, Field(ge=2, le=1000)] | None = None
    distribution: Literal["uniform", "normal", "lognormal", "triangular", "beta"] | None = None
    mean: float | None = None  # normal, lognormal
    sd: Annotated[float, Field(gt=0.0)] | None = None  # normal
    cv: Annotated[float, Field(gt=0.0, le=10.0)] | None = None  # lognormal
    mode: float | None = None  # triangular, between low and high
    alpha: Annotated[float, Field(gt=0.0)] | None = None  # beta, on [low, high] (default [0, 1])
    beta: Annotated[float, Field(gt=0.0)] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Parameter:
        needs = {
            None: (),
            "uniform": ("low", "high"),
            "normal": ("mean", "sd"),
            "lognormal": ("mean", "cv"),
            "triangular": ("low", "mode", "high"),
            "beta": ("alpha", "beta"),
        }[self.distribution]
        for key in needs:
            if getattr(self, key) is None:
                raise _error((key,), f"required for a {self.distribution} distribution")
        if self.values is not None and (self.distribution or self.low is not None or self.levels):
            raise _error(("values",), "give either values, or low/high (or a distribution), not both")
        if self.values is None and self.distribution is None and (self.low is None or self.high is None):
            raise _error(("low",), "give values, low and high, or a distribution")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise _error(("high",), "must be greater than low")
        if self.distribution == "lognormal" and (self.mean or 0) <= 0:
            raise _error(("mean",), "a lognormal's mean must be positive")
        if self.distribution == "triangular" and not (self.low or 0) <= (self.mode or 0) <= (self.high or 0):
            raise _error(("mode",), "must lie between low and high")
        return self

    @property
    def is_grid(self) -> bool:
        return self.values is not None or self.levels is not None


class Sweep(Strict):
    """How samples are drawn: every combination (grid), or `samples` points (lhs, random;
    sobol: `samples` base points, a power of two, giving samples x (parameters + 2) runs)."""

    design: Literal["grid", "lhs", "sobol", "random"]
    samples: Annotated[int, Field(ge=1, le=MAX_RUNS)] | None = None
    seed: Annotated[int, Field(ge=0)] = 0
    parameters: Annotated[dict[str, Parameter], Field(min_length=1, max_length=50)]

    @model_validator(mode="after")
    def _fits_design(self) -> Sweep:
        if self.design == "grid":
            if self.samples is not None:
                raise _error(("samples",), "a grid runs every combination of values: leave samples out")
            for path, p in self.parameters.items():
                if not p.is_grid:
                    raise _error(("parameters", path), "a grid needs values (or low, high and levels)")
        else:
            if self.samples is None:
                raise _error(("samples",), f"a {self.design} design needs samples (how many points)")
            if self.design == "sobol" and self.samples & (self.samples - 1):
                raise _error(("samples",), "a Sobol design needs a power of two (8, 16, 32, ...)")
            for path, p in self.parameters.items():
                if p.values is not None or p.levels is not None:
                    raise _error(
                        ("parameters", path), f"a {self.design} design draws from low/high or a distribution"
                    )
        return self


class Scenario(Strict):
    """A scenario: a config file (default: the spec's base), dotted overrides, or a
    footprint of `population` people with every capacity scaled to match."""

    config: str | None = None
    set: dict[str, Any] = {}
    population: Annotated[int, Field(ge=10_000, le=3_000_000)] | None = None


class ExperimentSpec(Strict):
    """An experiment: what `flowsim sweep` runs and `flowsim reproduce` re-runs."""

    name: SpecName
    description: str = ""
    base: str  # a config file, relative to the spec
    set: dict[str, Any] = {}  # dotted overrides for every run
    scenarios: Annotated[dict[SpecName, Scenario], Field(min_length=1, max_length=10_000)] = {
        "baseline": Scenario()
    }
    footprints: str | None = None  # a CSV of `name,population`: one scaled scenario a row
    sweep: Sweep | None = None
    replications: Annotated[int, Field(ge=1, le=1000)] = 1
    seed: Annotated[int, Field(ge=0)] = 0  # run.seed of every run: common random numbers
    tables: Annotated[list[str], Field(min_length=1)] | None = None  # None: every table

    @model_validator(mode="after")
    def _kpis_kept(self) -> ExperimentSpec:
        if self.tables is not None and "kpis" not in self.tables:
            raise _error(("tables",), "must include kpis (the sweep's parameters are columns of it)")
        return self


@dataclass(frozen=True)
class Cell:
    """One (scenario, sample): its own config, run once per replication."""

    scenario: str
    sample: int | None
    parameters: dict[str, Any]  # swept path -> value (empty without a sweep)
    config: FlowsimConfig

    @property
    def name(self) -> str:
        """The scenario folder its runs are stored under."""
        return self.scenario if self.sample is None else f"{self.scenario}{SAMPLE_MARK}{self.sample:04d}"


@dataclass
class Experiment:
    """A spec resolved into cells, each with a validated config."""

    spec: ExperimentSpec
    path: Path
    cells: list[Cell]
    unit_samples: np.ndarray | None = None  # the design on [0, 1)^d, before distributions
    sha256: str = ""
    spec_text: str = ""
    lines: dict[Any, int] = field(default_factory=dict)

    @property
    def parameters(self) -> list[str]:
        return list(self.spec.sweep.parameters) if self.spec.sweep else []

    def runs(self) -> list[tuple[Cell, int]]:
        return [(cell, r) for cell in self.cells for r in range(self.spec.replications)]


# --------------------------------------------------------------------------------------
# Loading


def _spec_dump(spec: ExperimentSpec) -> str:
    return json.dumps(spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


class _Where:
    """Names a spec key with its file and line, for one-line errors."""

    def __init__(self, path: Path):
        from flowsim.config.loader import _display

        self.label = _display(path)
        try:
            self.lines = key_lines(path)
        except ConfigError:
            self.lines = {}

    def __call__(self, *key: str | int) -> str:
        line = None
        for depth in range(len(key), 0, -1):
            line = self.lines.get(tuple(key[:depth]))
            if line is not None:
                break
        dotted = ".".join(str(k) for k in key)
        return f"{self.label}:{line}: {dotted}" if line else f"{self.label}: {dotted}"


_OVERRIDE = re.compile(r"^.*? \(override\): (?P<key>\S+): (?P<problem>.*)$")


def _config_for(
    where: _Where, file: Path, overrides: dict[str, Any], origin: dict[str, tuple[str | int, ...]]
) -> FlowsimConfig:
    """Load `file` with `overrides`; a problem with an override is named where the spec sets it."""
    try:
        return load_config(file, overrides)
    except ConfigError as exc:
        match = _OVERRIDE.match(str(exc))
        if match is None:
            raise
        key, problem = match["key"], match["problem"]
        # The override that set this key (the longest one that is a prefix of it).
        hits = [k for k in origin if key == k or key.startswith((k + ".", k + "["))]
        if not hits:
            raise
        raise ConfigError(f"{where(*origin[max(hits, key=len)])}: {problem}") from None


def _derived(
    where: _Where,
    file: Path,
    base: dict[str, Any],
    overrides: dict[str, Any],
    extra: Mapping[str, Any],
    origin: dict[str, tuple[str | int, ...]],
) -> FlowsimConfig:
    """`base` (the canonical data of `file` with `overrides`) with `extra` laid on it and
    validated: the same config as loading the file with both, without reading it again.
    Any problem is found again the slow way, which names its file and line."""
    import copy

    from pydantic import ValidationError

    from flowsim.config.loader import _apply_override, _parse_key
    from flowsim.config.schema import FlowsimConfig

    data = copy.deepcopy(base)
    try:
        for key, value in extra.items():
            _apply_override(data, key, _parse_key(key), value)
        return FlowsimConfig.model_validate_json(json.dumps(data))
    except (ConfigError, ValidationError, TypeError, ValueError):
        return _config_for(where, file, {**overrides, **extra}, origin)


def _resolve(spec_dir: Path, where: _Where, text: str, *key: str | int) -> Path:
    path = (spec_dir / text).resolve()
    if not path.is_file():
        raise ConfigError(f"{where(*key)}: file not found: {text}")
    return path


def _read_footprints(path: Path, where: _Where) -> dict[str, Scenario]:
    """`name,population` rows (with # comments) as scaled scenarios."""
    import csv

    out: dict[str, Scenario] = {}
    with path.open(encoding="utf-8") as fh:
        rows = [line for line in fh if line.strip() and not line.lstrip().startswith("#")]
    for i, row in enumerate(csv.DictReader(rows)):
        try:
            name, population = row["name"].strip(), int(row["population"])
        except (KeyError, ValueError, AttributeError):
            raise ConfigError(f"{where('footprints')}: row {i + 1} is not name,population") from None
        if not re.fullmatch(r"[A-Za-z0-9_-]+", name) or name in out:
            raise ConfigError(f"{where('footprints')}: row {i + 1}: bad or repeated name {name!r}")
        out[name] = Scenario(population=population)
    if not out:
        raise ConfigError(f"{where('footprints')}: no footprints in {path.name}")
    return out


def load_experiment(path: str | os.PathLike[str]) -> Experiment:
    """Read a spec, draw its design and validate the config of every (scenario, sample);
    `ConfigError` (one line: file, line, key, problem) on the first problem."""
    from flowsim.sweep.design import draw_design
    from flowsim.sweep.scale import scaled_capacity

    path = Path(path)
    spec: ExperimentSpec = load_config(path, schema=ExperimentSpec)  # type: ignore[assignment]
    where = _Where(path)
    spec_dir = path.resolve().parent
    base = _resolve(spec_dir, where, spec.base, "base")
    scenarios = dict(spec.scenarios)
    if spec.footprints is not None:
        if "scenarios" in spec.model_fields_set:
            raise ConfigError(f"{where('footprints')}: give scenarios or footprints, not both")
        scenarios = _read_footprints(_resolve(spec_dir, where, spec.footprints, "footprints"), where)
    common: dict[str, Any] = {}
    origin: dict[str, tuple[str | int, ...]] = {}
    for key, value in spec.set.items():
        common[key], origin[key] = value, ("set", key)
    for key, value in (("run.seed", spec.seed), ("run.replications", spec.replications)):
        common[key], origin[key] = value, (key.split(".")[1],)

    # Each scenario's config without the sweep: checks its own keys, and gives the values
    # (and types) the sweep's paths start from. Each file is read once, with the common
    # overrides; the rest is laid on its data.
    loaded: dict[Path, dict[str, Any]] = {}
    bases: dict[str, tuple[Path, dict[str, Any], FlowsimConfig]] = {}
    for name, scenario in scenarios.items():
        file = (
            base if scenario.config is None else _resolve(spec_dir, where, scenario.config, "scenarios", name)
        )
        if file not in loaded:
            loaded[file] = json.loads(canonical_json(_config_for(where, file, common, origin)))
        extra: dict[str, Any] = {}
        for key, value in scenario.set.items():
            extra[key], origin[key] = value, ("scenarios", name, "set", key)
        extra["name"], origin["name"] = name, ("scenarios", name)
        config = _derived(where, file, loaded[file], common, extra, origin)
        if scenario.population is not None:
            for key, value in scaled_capacity(config, scenario.population).items():
                extra[key], origin[key] = value, ("scenarios", name, "population")
            config = _derived(where, file, loaded[file], common, extra, origin)
        bases[name] = (file, {**common, **extra}, config)

    rows: list[dict[str, Any]] = [{}]
    unit = None
    if spec.sweep is not None:
        first = next(iter(bases.values()))[2]
        start = {p: _value_at(first, p, where) for p in spec.sweep.parameters}
        rows, unit = draw_design(spec.sweep, start)
        for p in spec.sweep.parameters:
            origin[p] = ("sweep", "parameters", p)
    if len(rows) * len(bases) * spec.replications > MAX_RUNS:
        raise ConfigError(f"{where('sweep')}: more than {MAX_RUNS:,} runs")

    cells = []
    for name, (file, overrides, config) in bases.items():
        scenario_data = json.loads(canonical_json(config))
        for k, row in enumerate(rows):
            if spec.sweep is None:
                cells.append(Cell(name, None, {}, config))
                continue
            folder = Cell(name, k, dict(row), config).name
            sampled = _derived(where, file, scenario_data, overrides, {**row, "name": folder}, origin)
            cells.append(Cell(name, k, dict(row), sampled))
    experiment = Experiment(spec, path, cells, unit, lines=where.lines)
    experiment.spec_text = _spec_dump(spec)
    experiment.sha256 = experiment_hash(spec, cells)
    return experiment


def experiment_hash(spec: ExperimentSpec, cells: list[Cell]) -> str:
    """sha256 of the spec and of every cell's config: a changed base config file is a
    different experiment, although the spec's text is the same."""
    from flowsim.results import run_identity

    text = _spec_dump(spec) + "".join(f"\n{c.name}:{run_identity(c.config)}" for c in cells)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _value_at(config: FlowsimConfig, dotted: str, where: _Where) -> Any:
    """The value at a dotted path of a config (None if absent: validation names it later)."""
    from flowsim.config.loader import _parse_key

    node: Any = json.loads(config.model_dump_json())
    try:
        parts = _parse_key(dotted)
    except ConfigError as exc:
        raise ConfigError(f"{where('sweep', 'parameters', dotted)}: {str(exc).split(': ', 1)[1]}") from None
    for part in parts:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def is_integer_value(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
