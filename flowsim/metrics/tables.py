"""The results tables of a run, as Arrow tables whose fields carry the registry's metadata.

Columns come in the registry's order, typed by their kind (counts int64, flags bool,
measures float64, keys and categories as text or dates); a NaN becomes null, which only a
measure that says why (`null_when`) may hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.costs import spend_items, spend_rows
from flowsim.metrics.daily import activity, daily
from flowsim.metrics.delays import delay_rows
from flowsim.metrics.episodes import episode_rows
from flowsim.metrics.kpis import kpis
from flowsim.metrics.logs import RunLogs
from flowsim.metrics.occupancy import occupancy_rows, pool_days
from flowsim.metrics.registry import TABLES, Measure
from flowsim.payments import accounts, finance_rows, flow_rows, payment_flows

if TYPE_CHECKING:
    import pyarrow as pa


def _array(measure: Measure, values: np.ndarray, table: str) -> pa.Array:
    import pyarrow as pa

    values = np.asarray(values)
    where = f"{table}.{measure.name}"
    if measure.kind == "count":
        as_float = values.astype(np.float64)
        if not np.all(np.isfinite(as_float) & (as_float == np.round(as_float))):
            raise ValueError(f"{where}: a count that is not a whole number")
        return pa.array(values.astype(np.int64), pa.int64())
    if measure.kind == "flag":
        return pa.array(values.astype(bool), pa.bool_())
    if values.dtype.kind == "M":
        missing = np.isnat(values)
    elif values.dtype.kind == "f":
        missing = np.isnan(values)
    elif values.dtype == object:
        missing = np.array([v is None for v in values], dtype=bool)
    else:
        return pa.array(values)
    if missing.any() and measure.null_when is None:
        raise ValueError(f"{where}: a missing value in a column that is never missing")
    mask = missing if missing.any() else None
    if values.dtype.kind == "M":
        return pa.array(values.astype("datetime64[D]"), pa.date32(), mask=mask)
    if values.dtype.kind == "f":
        return pa.array(values, pa.float64(), mask=mask)
    return pa.array(values.tolist(), pa.string())


def to_table(name: str, columns: dict[str, np.ndarray]) -> pa.Table:
    """An Arrow table of registry table `name` from its columns (exactly the registry's)."""
    import pyarrow as pa

    measures = TABLES[name]
    expected = [m.name for m in measures]
    if set(columns) != set(expected):
        extra, missing = set(columns) - set(expected), set(expected) - set(columns)
        raise ValueError(f"{name}: columns not in the registry {sorted(extra)}, missing {sorted(missing)}")
    arrays = [_array(m, columns[m.name], name) for m in measures]
    fields = [pa.field(m.name, a.type, metadata=m.metadata()) for m, a in zip(measures, arrays)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def run_tables(logs: RunLogs, episodes: bool = False) -> dict[str, pa.Table]:
    """daily, kpis, occupancy, delays, spend, flows and finance (and episodes if asked) of a run."""
    pools = pool_days(logs)
    day = daily(logs, pools)
    dates = logs.dates()
    stamped = {"date": dates, "warmup": day["day"] < logs.warmup_days, **day}
    kpi_row = {k: np.array([v]) for k, v in kpis(logs, day).items()}
    act = activity(logs, day, pools)
    items = spend_items(logs.config, act, logs.days)
    flows = payment_flows(logs.config, act, items, logs.days)
    out = {
        "daily": to_table("daily", stamped),
        "kpis": to_table("kpis", kpi_row),
        "occupancy": to_table("occupancy", occupancy_rows(logs, pools)),
        "delays": to_table("delays", delay_rows(logs)),
        "spend": to_table("spend", spend_rows(items, dates)),
        "flows": to_table("flows", flow_rows(flows, dates)),
        "finance": to_table("finance", finance_rows(accounts(flows, items, logs.days), dates)),
    }
    if episodes:
        out["episodes"] = to_table("episodes", episode_rows(logs))
    return out
