"""What a sweep adds to a run's tables: its parameters as columns, and a `samples` table.

Every swept path becomes a column of the run's `kpis` (named by the dotted path, e.g.
``acute.beds_scale``), and the run gets a one-row `samples` table (``sample`` and one
column per path), so analysis reads parameters rather than parsing scenario names. The
same record rides in the run's manifest (``meta.sweep``), so `flowsim reproduce` of a
single run rebuilds the same files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from flowsim.results import RunOutput

__all__ = ["apply_sweep", "sweep_record"]


def sweep_record(
    experiment: str,
    scenario: str,
    sample: int | None,
    parameters: Mapping[str, Any],
    tables: list[str] | None,
) -> dict[str, Any]:
    """A run's sweep record (JSON-ready), as its manifest keeps it."""
    return {
        "experiment": experiment,
        "scenario": scenario,
        "sample": sample,
        "parameters": dict(parameters),
        "tables": None if tables is None else sorted(tables),
    }


def _column(value: Any) -> pa.Array:
    import pyarrow as pa

    if isinstance(value, bool):
        return pa.array([value], pa.bool_())
    if isinstance(value, int):
        return pa.array([value], pa.int64())
    if isinstance(value, float):
        return pa.array([value], pa.float64())
    return pa.array([str(value)], pa.string())


def apply_sweep(output: RunOutput, record: Mapping[str, Any]) -> None:
    """Add the parameter columns and the samples table; drop tables the sweep does not keep."""
    import pyarrow as pa

    output.meta["sweep"] = dict(record)  # kept in the manifest, for resume and reproduce
    parameters: Mapping[str, Any] = record.get("parameters") or {}
    keep = record.get("tables")
    if keep is not None:
        output.tables = {name: t for name, t in output.tables.items() if name in keep}
    if not parameters:
        return
    kpis = output.tables["kpis"]
    for path, value in parameters.items():
        column = _column(value)
        if kpis.num_rows != 1:
            column = pa.concat_arrays([column] * kpis.num_rows) if kpis.num_rows else column.slice(0, 0)
        kpis = kpis.append_column(path, column)
    output.tables["kpis"] = kpis
    row = {"sample": pa.array([int(record["sample"])], pa.int64())}
    row.update({path: _column(value) for path, value in parameters.items()})
    output.tables["samples"] = pa.table(row)
