"""The validation report builds end to end (experiments/validation_report.py --quick)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.integration]

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "validation_report.py"


@pytest.fixture(scope="module")
def report_module():
    pytest.importorskip("matplotlib", reason="the report needs the 'report' extra (matplotlib)")
    # Importable by name, so that worker processes started by spawn/forkserver find it too.
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        spec = importlib.util.spec_from_file_location("validation_report", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules["validation_report"] = module
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("validation_report", None)
        sys.path.remove(str(SCRIPT.parent))


def test_quick_report_has_the_target_table_and_figures(report_module, tmp_path):
    out = tmp_path / "validation.md"
    written = report_module.main(["--quick", "--out", str(out)])
    assert Path(written) == out and out.is_file()
    text = out.read_text(encoding="utf-8")

    # the header names the config and its hash
    assert "configs/small.yaml" in text
    assert re.search(r"Config sha256:\*\* `[0-9a-f]{64}`", text)

    # the target table: its header, a pass/fail column, one row per target, each with a verdict
    header = "| measure | target | tolerance | model mean | 95% CI | pass/fail |"
    assert header in text
    lines = text.splitlines()
    start = lines.index(header) + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    assert len(rows) == len(report_module.TARGETS)
    assert [r[0] for r in rows] == [t.measure for t in report_module.TARGETS]
    assert all(re.fullmatch(r"PASS( †)?|FAIL", r[-1]) for r in rows), rows

    # the other sections
    for section in (
        "## Summary",
        "## Other features of the era",
        "## Analytic checks of the core",
        "**Erlang C**",
        "**Erlang B**",
        "**Little's law**",
        "**Conservation**",
    ):
        assert section in text, section
    # the analytic checks of the core hold on the quick streams too
    analytic = text.split("## Analytic checks of the core")[1].split("## Figures")[0]
    assert "FAIL" not in analytic and "DIFFERENT" not in analytic

    # the figures exist, are PNGs, and the report links them
    fig_dir = tmp_path / "validation"
    for name in ("occupancy.png", "ae.png", "dtoc.png", "pathways.png"):
        png = fig_dir / name
        assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert f"](validation/{name})" in text
