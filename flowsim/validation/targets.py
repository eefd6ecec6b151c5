"""The calibration targets file (configs/validation/targets.yaml): schema and loading.

Read by the config loader, so that a mistake is one line naming the file, the line and
the key, e.g. ``targets.yaml:12: targets[1].tolerance: give tolerance or relative_tolerance,
not both``.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flowsim.validation.measures import MEASURES, Convert

__all__ = ["Expectation", "Feature", "Target", "TargetsFile", "check_measures", "load_targets"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _format_spec(spec: str) -> str:
    try:
        format(1.0, spec)
    except ValueError:
        raise ValueError("not a number format such as '.1f' or ',.0f'") from None
    return spec


class Target(_Strict):
    """A national figure the model must reproduce: a kpis column (or a measure of the
    report) against a value."""

    label: str = Field(min_length=1)
    kpi: str = Field(min_length=1, description="a column of the kpis table or a measure of the report")
    convert: Convert = "as_is"
    target: float
    tolerance: float | None = Field(None, ge=0, description="in the target's unit")
    relative_tolerance: float | None = Field(None, gt=0, description="a fraction of the target")
    unit: str
    format: str = ".1f"
    source: str = Field(min_length=1)

    _spec = field_validator("format")(_format_spec)

    @model_validator(mode="after")
    def _one_tolerance(self) -> Self:
        if (self.tolerance is None) == (self.relative_tolerance is None):
            raise ValueError("give tolerance or relative_tolerance (exactly one)")
        return self

    @property
    def half_band(self) -> float:
        if self.relative_tolerance is not None:
            return self.relative_tolerance * abs(self.target)
        assert self.tolerance is not None
        return self.tolerance

    @property
    def band(self) -> tuple[float, float]:
        """The values that pass: target ± tolerance."""
        return self.target - self.half_band, self.target + self.half_band

    @property
    def tolerance_text(self) -> str:
        if self.relative_tolerance is not None:
            return f"±{100 * self.relative_tolerance:g}%"
        return f"±{self.tolerance:g} {self.unit}".rstrip()


class Expectation(_Strict):
    """Where a feature of the era should fall: `near` ± `within`, `above` or `below`."""

    near: float | None = None
    within: float | None = Field(None, ge=0)
    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        forms = [self.near is not None, self.above is not None, self.below is not None]
        if sum(forms) != 1:
            raise ValueError("give one of near (with within), above or below")
        if (self.near is None) != (self.within is None):
            raise ValueError("near and within go together")
        return self

    def met_by(self, x: float) -> bool:
        if self.near is not None and self.within is not None:
            return abs(x - self.near) <= self.within
        if self.above is not None:
            return x > self.above
        assert self.below is not None
        return x < self.below

    @property
    def text(self) -> str:
        if self.near is not None:
            return f"{self.near:g} ± {self.within:g}"
        return f"above {self.above:g}" if self.above is not None else f"below {self.below:g}"


class Feature(_Strict):
    """A published feature of the era shown beside the model's figure, without a verdict."""

    label: str = Field(min_length=1)
    measure: str = Field(min_length=1, description="a kpis column or a report measure")
    convert: Convert = "as_is"
    reference: str | None = None
    source: str | None = None
    how: str = Field(min_length=1, description="input, calibrated or emergent, and why")
    format: str = ".1f"
    expect: Expectation | None = None

    _spec = field_validator("format")(_format_spec)


class TargetsFile(_Strict):
    schema_version: Literal[1]
    targets: list[Target] = Field(min_length=1)
    features: list[Feature] = []

    @model_validator(mode="after")
    def _unique_labels(self) -> Self:
        seen: set[str] = set()
        for label in [t.label for t in self.targets] + [f.label for f in self.features]:
            if label in seen:
                raise ValueError(f"label {label!r} is used twice; each row needs its own")
            seen.add(label)
        return self


def load_targets(path: str | os.PathLike[str]) -> TargetsFile:
    """Read and check a targets file; raise `ConfigError` (one line) on any problem."""
    from flowsim.config.loader import load_config

    return load_config(Path(path), schema=TargetsFile)  # type: ignore[return-value]


def check_measures(targets: TargetsFile, kpi_columns: Collection[str], path: str | os.PathLike[str]) -> None:
    """Raise `ConfigError` naming the first target or feature whose column or measure does
    not exist (the kpis columns are known only once a run has been read)."""
    from flowsim.config.loader import ConfigError, _display

    known = set(kpi_columns) | set(MEASURES)
    for i, t in enumerate(targets.targets):
        if t.kpi not in known:
            raise ConfigError(
                f"{_display(Path(path))}: targets[{i}].kpi: {t.kpi!r} is neither a kpis column nor a measure "
                "of the report (flowsim.validation.measures.MEASURES)"
            )
    for i, f in enumerate(targets.features):
        if f.measure not in known:
            raise ConfigError(
                f"{_display(Path(path))}: features[{i}].measure: {f.measure!r} is neither a kpis column "
                "nor a measure of the report (flowsim.validation.measures.MEASURES)"
            )
