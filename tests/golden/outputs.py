"""The golden outputs: a digest of every column of a short run of `configs/small.yaml`.

Each column is hashed by its values (numbers as float64, everything else as text), so a
refactor that keeps the model's behaviour keeps every digest, while a change of a column's
type alone (a count stored as an integer) does not hide behind it. A deliberate change of
behaviour or of a table's shape is recorded by regenerating the file on purpose:

    make golden        # python -m tests.golden.outputs --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "small.json"
OVERRIDES = {"run.warmup_days": 10, "run.horizon_days": 40, "outputs.episodes": True}
REPLICATION = 1


def column_digest(column: pa.ChunkedArray) -> str:
    """sha256 of a column's values: numbers as float64 (nulls as NaN), others as text."""
    digest = hashlib.sha256()
    typ = column.type
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ):
        values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        digest.update(np.ascontiguousarray(values, dtype="<f8").tobytes())
    else:
        for value in column.cast(pa.string()).to_pylist():
            digest.update(b"\x00" if value is None else value.encode("utf-8") + b"\x01")
    return digest.hexdigest()


def table_digests(tables: dict[str, pa.Table]) -> dict[str, dict[str, str]]:
    return {
        name: {"rows": str(table.num_rows), **{c: column_digest(table.column(c)) for c in table.column_names}}
        for name, table in sorted(tables.items())
    }


def current() -> dict[str, dict[str, str]]:
    """Digests of the golden run made now, by this checkout."""
    from flowsim.config import load_config
    from flowsim.model import simulate

    config = load_config(ROOT / "configs" / "small.yaml", OVERRIDES)
    output = simulate(config, REPLICATION)
    return table_digests(output.tables)


def stored() -> dict[str, dict[str, str]]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def differences(old: dict[str, dict[str, str]], new: dict[str, dict[str, str]]) -> list[str]:
    """One line per table or column that is new, gone or different."""
    out = []
    for table in sorted(set(old) | set(new)):
        if table not in new:
            out.append(f"{table}: table gone")
            continue
        if table not in old:
            out.append(f"{table}: new table")
            continue
        for column in sorted(set(old[table]) | set(new[table])):
            a, b = old[table].get(column), new[table].get(column)
            if a != b:
                what = "gone" if b is None else "new" if a is None else "changed"
                out.append(f"{table}.{column}: {what}")
    return out


if __name__ == "__main__":
    digests = current()
    if "--write" in sys.argv[1:]:
        GOLDEN.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {GOLDEN.relative_to(ROOT)}")
    else:
        lines = differences(stored(), digests)
        print("\n".join(lines) if lines else "golden outputs unchanged")
        sys.exit(1 if lines else 0)
