"""docs/kpis.md, the reference of every results column, generated from the registry.

python -m flowsim.metrics.reference docs/kpis.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from flowsim.metrics.registry import FRACTION, PERCENT, TABLES, Measure

_INTRO = f"""\
# Results columns: the KPI reference

Generated from `flowsim/metrics/registry.py` by `python -m flowsim.metrics.reference
docs/kpis.md`; do not edit by hand (a test checks it is up to date). The same label, unit,
scale and better direction ride in each column's Arrow field metadata (keys `label`,
`unit`, `scale`, `better`, `kind`, `description` and, where a value may be missing,
`null_when`).

**Conventions.** A column whose name ends in `_pct` is a percentage: {PERCENT}. Every
other proportion (a share, an occupancy) is a fraction: {FRACTION}. Counts are whole
numbers (int64); flags are true/false. A value is null only where its column says why
(`null_when`); no table holds NaN. Times are hours since 00:00 of `run.start_date`. Money
is pounds at the config's `costs.price_base`. The `kpis` table covers the measured window,
the days from `run.warmup_days` to `run.warmup_days + run.horizon_days`; the other tables
cover every day, warm-up included. The results store adds `scenario` and `replication`
(see `docs/results.md`).
"""

_TABLE_INTROS = {
    "kpis": "One row per run: the headline figures over the measured window.",
    "daily": "One row per day, system-level.",
    "occupancy": "One row per day and pool; acute beds one row per site.",
    "delays": "One row per day, pathway awaited and responsible organisation: acute beds held by "
    "medically fit patients.",
    "spend": "One row per day, cost item and part (fixed or variable): what each provider spends (the cost "
    "view, `docs/money.md`).",
    "flows": "One row per day and payment: who pays whom under which rule (the payment view, `docs/money.md`).",
    "finance": "One row per day and organisation: its budget, income, payments, cost and surplus.",
    "episodes": "Optional (`--episodes`): one row per A&E attendance, GP direct admission or elective "
    "admission.",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(m: Measure) -> str:
    cells = (f"`{m.name}`", m.label, m.unit, m.scale, m.better or "–", m.description, m.null_when or "–")
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def reference_markdown() -> str:
    """The whole of docs/kpis.md."""
    parts = [_INTRO]
    for table in ("kpis", "daily", "occupancy", "delays", "spend", "flows", "finance", "episodes"):
        parts.append(f"\n## `{table}`\n\n{_TABLE_INTROS[table]}\n\n")
        parts.append("| column | label | unit | scale | better | definition | null when |\n")
        parts.append("| --- | --- | --- | --- | --- | --- | --- |\n")
        parts.extend(_row(m) + "\n" for m in TABLES[table])
    return "".join(parts)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/kpis.md")
    target.write_text(reference_markdown(), encoding="utf-8")
    print(f"wrote {target}")
