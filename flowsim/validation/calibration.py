"""The replications against the calibration targets and the features of the era.

A target passes when the mean over replications lies within its tolerance band; the 95%
t interval (flowsim.stats) says how sure that is. A feature has no verdict, only, when
the targets file gives one, an expectation the summary flags it against.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from flowsim.stats import Interval, mean_ci
from flowsim.validation.measures import Replication, value
from flowsim.validation.targets import Feature, Target, TargetsFile

__all__ = ["FeatureResult", "TargetResult", "evaluate_features", "evaluate_targets"]


@dataclass(frozen=True)
class TargetResult:
    target: Target
    values: tuple[float, ...]  # one per replication, in the target's unit
    interval: Interval

    @property
    def passed(self) -> bool:
        lo, hi = self.target.band
        return bool(math.isfinite(self.interval.mean) and lo <= self.interval.mean <= hi)

    @property
    def interval_inside(self) -> bool:
        """The whole t interval lies in the band (a pass not owed to chance); with one
        replication there is no interval, and this is the verdict itself."""
        if math.isnan(self.interval.half_width):
            return self.passed
        lo, hi = self.target.band
        return bool(lo <= self.interval.lower and self.interval.upper <= hi)


@dataclass(frozen=True)
class FeatureResult:
    feature: Feature
    values: tuple[float, ...]
    interval: Interval

    @property
    def agrees(self) -> bool | None:
        """Whether the mean meets the feature's expectation (None: none given, or no value)."""
        if self.feature.expect is None or not math.isfinite(self.interval.mean):
            return None
        return self.feature.expect.met_by(self.interval.mean)


def evaluate_targets(targets: TargetsFile, replications: Sequence[Replication]) -> list[TargetResult]:
    out = []
    for t in targets.targets:
        values = tuple(value(rep, t.kpi, t.convert) for rep in replications)
        out.append(TargetResult(t, values, mean_ci(values)))
    return out


def evaluate_features(targets: TargetsFile, replications: Sequence[Replication]) -> list[FeatureResult]:
    out = []
    for f in targets.features:
        values = tuple(value(rep, f.measure, f.convert) for rep in replications)
        out.append(FeatureResult(f, values, mean_ci(values)))
    return out
