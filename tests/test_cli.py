"""The `flowsim` command: what a user types, what they see, and the exit status.

Errors a user can fix are one line on stderr with exit status 2; `main()` (the installed
entry point) also turns bad arguments into one line.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowsim.cli import app, main

REPO = Path(__file__).resolve().parents[1]
FOOTPRINT = REPO / "configs" / "footprint.yaml"
runner = CliRunner()


def shown(path: Path) -> str:
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel


def one_error_line(text: str) -> str:
    lines = text.splitlines()
    assert len(lines) == 1, f"expected one line, got: {text!r}"
    assert lines[0].startswith("error: ")
    return lines[0]


# --- validate --------------------------------------------------------------------------


@pytest.mark.unit
def test_validate_ok_prints_name_and_hash() -> None:
    result = runner.invoke(app, ["validate", str(FOOTPRINT)])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"ok: footprint \(sha256 [0-9a-f]{64}\)\n", result.stdout)


@pytest.mark.unit
def test_validate_bad_config_is_one_line_naming_file_and_key(tmp_path: Path) -> None:
    scenario = tmp_path / "typo.yaml"
    scenario.write_text(f"extends: {FOOTPRINT}\nname: typo\nacute:\n  bed_scale: 0.9\n")
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 2
    assert result.stdout == ""
    line = one_error_line(result.stderr)
    assert (
        line
        == f"error: {shown(scenario)}:4: acute.bed_scale: unknown key 'bed_scale' (did you mean 'beds_scale'?)"
    )


@pytest.mark.unit
def test_validate_with_a_bad_override(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(FOOTPRINT), "--set", "run.horizon_days=0"])
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert "(override): run.horizon_days: Input should be greater than or equal to 1 (got 0)" in line


@pytest.mark.unit
def test_validate_a_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert one_error_line(result.stderr) == f"error: {shown(tmp_path / 'nope.yaml')}: file not found"


# --- bad arguments ---------------------------------------------------------------------


@pytest.mark.unit
def test_bad_cli_argument_exits_2() -> None:
    assert runner.invoke(app, ["run", str(FOOTPRINT), "--workers", "0"]).exit_code == 2
    assert runner.invoke(app, ["run", str(FOOTPRINT), "--no-such-option"]).exit_code == 2
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2


@pytest.mark.unit
def test_main_turns_a_bad_argument_into_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(FOOTPRINT), "--replications", "many"]) == 2
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert "'--replications'" in line and "flowsim run --help" in line
    assert captured.out == ""
    assert main(["frobnicate"]) == 2
    one_error_line(capsys.readouterr().err)


@pytest.mark.unit
def test_main_returns_the_command_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(FOOTPRINT)]) == 0
    assert capsys.readouterr().out.startswith("ok: footprint")
    assert main(["validate", "nope.yaml"]) == 2


@pytest.mark.unit
def test_run_refuses_a_folder_that_is_not_flowsim_results(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["run", str(FOOTPRINT), "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 2
    assert "not a flowsim results folder" in one_error_line(result.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.unit
def test_reproduce_a_bad_manifest_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["reproduce", str(tmp_path / "manifest.json")])
    assert result.exit_code == 2
    assert "no such manifest" in one_error_line(result.stderr)
    (tmp_path / "manifest.json").write_text("[]")
    result = runner.invoke(app, ["reproduce", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a flowsim run manifest" in one_error_line(result.stderr)


@pytest.mark.unit
def test_run_into_a_folder_that_cannot_be_one_is_one_line(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    marker_dir = tmp_path / "m"
    (marker_dir / "_flowsim_results.json").mkdir(parents=True)
    old = tmp_path / "old"
    old.mkdir()
    (old / "_flowsim_results.json").write_text('{"kind": "flowsim-results", "version": 1}')
    for out, message in (
        (a_file / "res", "is a file"),
        (marker_dir, "not a file"),
        (old, "old layout (format 1"),
    ):
        result = runner.invoke(app, ["run", str(FOOTPRINT), "--out", str(out), "--quiet"])
        assert result.exit_code == 2, result.output
        assert message in one_error_line(result.stderr)


@pytest.mark.unit
def test_run_while_another_command_writes_the_folder_exits_2(tmp_path: Path) -> None:
    import fcntl

    out = tmp_path / "res"
    out.mkdir()
    (out / "_flowsim_results.json").write_text('{"kind": "flowsim-results", "version": 2}')
    with open(out / ".flowsim.lock", "w") as held:  # as another process would hold it
        fcntl.flock(held, fcntl.LOCK_EX)
        result = runner.invoke(app, ["run", str(FOOTPRINT), "--out", str(out), "--quiet"])
    assert result.exit_code == 2
    assert "another flowsim command" in one_error_line(result.stderr)
    assert not (out / "runs").exists()


@pytest.mark.unit
def test_reproduce_an_old_or_malformed_manifest_exits_2(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "kind": "flowsim-run",
                "manifest_version": 1,
                "flowsim_version": "0.1.0",
                "git_commit": "ab" * 20,
            }
        )
    )
    result = runner.invoke(app, ["reproduce", str(manifest)])
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert "old-format manifest (format 1, written by flowsim 0.1.0, git commit abababababab)" in line
    assert "reproduce it with that flowsim, or run its config again" in line
    manifest.write_text(json.dumps({"kind": "flowsim-run", "manifest_version": 2, "scenario": "x"}))
    result = runner.invoke(app, ["reproduce", str(manifest)])
    assert result.exit_code == 2
    assert "manifest field 'replication'" in one_error_line(result.stderr)


# --- info and help ---------------------------------------------------------------------


@pytest.mark.unit
def test_info_shows_version_core_and_packages() -> None:
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    for word in ("flowsim", "core", "Python", "numpy", "simpy", "mesa", "pyarrow", "pydantic"):
        assert word in result.stdout
    data = json.loads(runner.invoke(app, ["info", "--json"]).stdout)
    from flowsim._core import CORE

    assert data["core"] == CORE
    assert data["python"] == ".".join(map(str, sys.version_info[:3]))


@pytest.mark.unit
@pytest.mark.parametrize("command", ["run", "validate", "reproduce", "info"])
def test_help_teaches_with_an_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout and f"flowsim {command}" in result.stdout


@pytest.mark.unit
def test_import_flowsim_is_light() -> None:
    """`import flowsim` loads no heavy package and does no work; the API loads on use."""
    code = (
        "import sys, flowsim; "
        "heavy = [m for m in ('numpy', 'pyarrow', 'pydantic', 'yaml', 'simpy', 'mesa', 'rich', 'typer', "
        "'importlib.metadata') if m in sys.modules]; "
        "print(heavy); print(callable(flowsim.load_config), flowsim.__version__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    heavy, api = out.splitlines()
    assert heavy == "[]"
    assert api.startswith("True ")


@pytest.mark.e2e
def test_python_m_flowsim_is_the_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flowsim", "validate", str(FOOTPRINT)], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("ok: footprint")
    result = subprocess.run(
        [sys.executable, "-m", "flowsim", "run", "--bogus"], capture_output=True, text=True
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


# --- end to end with the real model ---------------------------------------------------

try:
    import flowsim.model  # noqa: F401

    MODEL_MISSING = None
except ImportError as exc:  # pragma: no cover - until the model lands
    MODEL_MISSING = f"flowsim.model cannot be imported yet: {exc}"

needs_model = pytest.mark.skipif(MODEL_MISSING is not None, reason=MODEL_MISSING or "")
TINY = ["--horizon-days", "3", "--warmup-days", "1", "--set", "population.size=20000"]


@pytest.mark.e2e
@needs_model
def test_run_writes_results_and_prints_headline_kpis(tmp_path: Path) -> None:
    out = tmp_path / "res"
    result = runner.invoke(app, ["run", str(FOOTPRINT), *TINY, "--replications", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "headline KPIs" in result.stdout and "A&E patients leaving within 4 hours" in result.stdout
    assert f"Results: {out} (2 new runs)" in result.stdout
    for replication in (0, 1):
        key = f"scenario=footprint/replication={replication}"
        assert {p.name for p in (out / "runs" / key).iterdir()} == {"manifest.json"}
        for table in ("daily", "kpis"):
            assert {p.name for p in (out / table / key).iterdir()} == {"part-0.parquet"}

    again = runner.invoke(app, ["run", str(FOOTPRINT), *TINY, "--replications", "3", "--out", str(out), "-q"])
    assert again.exit_code == 0, again.output
    assert again.stdout == f"Results: {out} (1 new run, 2 skipped (done before))\n"


@pytest.mark.e2e
@needs_model
def test_run_with_episodes_then_reproduce_all_match(tmp_path: Path) -> None:
    out = tmp_path / "res"
    result = runner.invoke(
        app, ["run", str(FOOTPRINT), *TINY, "--episodes", "--seed", "3", "--out", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    manifest = out / "runs" / "scenario=footprint" / "replication=0" / "manifest.json"
    assert "episodes" in json.loads(manifest.read_text())["outputs"]

    result = runner.invoke(app, ["reproduce", str(manifest)])
    assert result.exit_code == 0, result.output
    assert "reproduced: all 8 tables match (on disk and re-run)" in result.stdout


@pytest.mark.e2e
@needs_model
def test_reproduce_names_a_damaged_file_and_a_mismatch_with_exit_1(tmp_path: Path) -> None:
    out = tmp_path / "res"
    assert runner.invoke(app, ["run", str(FOOTPRINT), *TINY, "--out", str(out), "-q"]).exit_code == 0
    manifest_path = out / "runs" / "scenario=footprint" / "replication=0" / "manifest.json"
    daily = out / "daily" / "scenario=footprint" / "replication=0" / "part-0.parquet"
    data = bytearray(daily.read_bytes())
    data[200] ^= 0xFF  # a byte flipped on disk: the re-run still matches the manifest
    daily.write_bytes(bytes(data))
    result = runner.invoke(app, ["reproduce", str(manifest_path)])
    assert result.exit_code == 1
    assert "DAMAGED ON DISK" in result.stdout
    assert "not reproduced: 1 of 7 tables: daily damaged on disk" in result.stdout

    manifest = json.loads(manifest_path.read_text())
    manifest["outputs"]["kpis"]["sha256"] = "0" * 64  # as if the recorded output differed
    manifest_path.write_text(json.dumps(manifest))
    result = runner.invoke(app, ["reproduce", str(manifest_path)])
    assert result.exit_code == 1
    assert "kpis damaged on disk" in result.stdout  # the file on disk no longer matches either

    copy = tmp_path / "elsewhere" / "manifest.json"  # a manifest alone: only the re-run is checked
    copy.parent.mkdir()
    copy.write_text(json.dumps(manifest))
    result = runner.invoke(app, ["reproduce", str(copy)])
    assert result.exit_code == 1
    assert "files on disk not checked" in result.stdout
    assert "not reproduced: 1 of 7 tables: kpis re-run differs" in result.stdout

    manifest["config"]["run"]["seed"] += 1  # an edited config no longer matches its hash
    manifest_path.write_text(json.dumps(manifest))
    result = runner.invoke(app, ["reproduce", str(manifest_path)])
    assert result.exit_code == 2
    assert "hashes to" in one_error_line(result.stderr)


SMALL = REPO / "configs" / "small.yaml"


@pytest.mark.e2e
@needs_model
def test_run_refuses_another_config_under_the_same_name_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "R"
    first = ["run", str(SMALL), *TINY, "--out", str(out), "-q"]
    assert runner.invoke(app, [*first, "--replications", "3"]).exit_code == 0
    before = sorted(p.relative_to(out) for p in out.rglob("*.parquet"))
    second = [*first, "--set", "acute.beds_scale=0.8", "--replications", "2"]
    result = runner.invoke(app, second)
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert "scenario 'small'" in line and "acute.beds_scale: 1.0 → 0.8" in line and "--overwrite" in line
    assert sorted(p.relative_to(out) for p in out.rglob("*.parquet")) == before

    result = runner.invoke(app, [*second, "--overwrite"])
    assert result.exit_code == 0, result.output
    manifests = sorted(out.glob("runs/scenario=small/replication=*/manifest.json"))
    assert [json.loads(m.read_text())["config"]["acute"]["beds_scale"] for m in manifests] == [0.8, 0.8]
    assert len(list((out / "kpis" / "scenario=small").iterdir())) == 2
