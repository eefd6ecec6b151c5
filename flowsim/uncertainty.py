"""Plan uncertainty: each replication draws its own value of every uncertain lever field.

A field typed `Uncertain[...]` in the schema may hold a `Draw` (a bounded uniform,
triangular or truncated normal) instead of a number. Before a replication runs, `resolve`
replaces every Draw by a value drawn from that replication's own stream, keyed by the
intervention's position and the field, so a re-run draws the same values, and replication
k of two scenarios that share a lever draws it at the same quantile (common random
numbers). The model only ever sees plain numbers; the values drawn are recorded in the
run's kpis table (`draw.<intervention>.<field>`) and manifest.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from flowsim.config.schema import Draw, FlowsimConfig
from flowsim.rng import Streams

if TYPE_CHECKING:
    import pyarrow as pa

DRAW_PREFIX = "draw."


def quantile(draw: Draw, u: float) -> float:
    """The value of `draw`'s distribution at probability u (inverse CDF), within [low, high]."""
    low, high = float(draw.low), float(draw.high)
    if draw.distribution == "uniform":
        value = low + u * (high - low)
    elif draw.distribution == "triangular":
        assert draw.mode is not None
        mode = float(draw.mode)
        cut = (mode - low) / (high - low)
        if u < cut:
            value = low + math.sqrt(u * (high - low) * (mode - low))
        else:
            value = high - math.sqrt((1.0 - u) * (high - low) * (high - mode))
    else:
        assert draw.mean is not None and draw.sd is not None
        normal = NormalDist(float(draw.mean), float(draw.sd))
        a, b = normal.cdf(low), normal.cdf(high)
        p = a + u * (b - a)
        value = normal.inv_cdf(min(max(p, 1e-300), 1.0 - 1e-16)) if b > a else float(draw.mean)
    value = min(max(value, low), high)
    return float(math.floor(value + 0.5)) if draw._integer else value


def _resolve_value(value: Any, u_for: Any, path: str, drawn: dict[str, float]) -> Any:
    if isinstance(value, Draw):
        x = quantile(value, u_for(path))
        drawn[path] = x
        return int(x) if value._integer else x
    if isinstance(value, dict):
        return {k: _resolve_value(v, u_for, f"{path}.{k}", drawn) for k, v in value.items()}
    return value


def resolve(config: FlowsimConfig, replication: int) -> tuple[FlowsimConfig, dict[str, float]]:
    """The config with every Draw replaced by this replication's value, and those values
    by column name (`draw.<intervention name>.<field>`; empty when nothing is uncertain)."""
    streams = Streams(config.run.seed, replication)
    drawn: dict[str, float] = {}
    changes = []
    names = [c.name for c in config.interventions]
    for i, change in enumerate(config.interventions):
        label = change.name if names.count(change.name) == 1 else f"{change.name}#{i}"
        update = {}
        for field in type(change).model_fields:
            value = getattr(change, field)

            def u_for(path: str, i: int = i) -> float:
                return float(streams.generator(f"plan-draw/{i}/{path}").random())

            mine: dict[str, float] = {}
            resolved = _resolve_value(value, u_for, field, mine)
            if mine:
                update[field] = resolved
                drawn.update({f"{DRAW_PREFIX}{label}.{path}": x for path, x in mine.items()})
        changes.append(change.model_copy(update=update) if update else change)
    if not drawn:
        return config, drawn
    return config.model_copy(update={"interventions": changes}), drawn


def with_draws(kpis: pa.Table, drawn: dict[str, float]) -> pa.Table:
    """The kpis table with a column for each value drawn, labelled as such."""
    import pyarrow as pa

    for name, value in drawn.items():
        intervention, _, field = name.removeprefix(DRAW_PREFIX).rpartition(".")
        metadata = {
            "label": f"Drawn {field} of {intervention}",
            "unit": "value",
            "scale": "1",
            "better": "neither",
            "kind": "measure",
            "description": "The value this replication drew for an uncertain lever (the config gives its distribution).",
        }
        field_ = pa.field(name, pa.float64(), metadata={k.encode(): v.encode() for k, v in metadata.items()})
        kpis = kpis.append_column(field_, pa.array([value] * kpis.num_rows, pa.float64()))
    return kpis
