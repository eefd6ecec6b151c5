"""`flowsim dashboard`: what it refuses before serving, each as one line and exit status 2,
and that the other commands do not pay for importing Dash."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from flowsim.cli import main

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[1]


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: "), err
    return err


@pytest.mark.parametrize("make", ["missing", "foreign"])
def test_a_folder_that_is_not_results_is_refused(
    tmp_path: Path, make: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "x"
    if make == "foreign":
        folder.mkdir()
        (folder / "notes.txt").write_text("mine")
    assert main(["dashboard", str(folder)]) == 2
    assert str(folder) in one_error_line(capsys)


def test_a_bad_target_is_refused_before_serving(
    dashboard_results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dashboard", str(dashboard_results), "--target", "acute_occupancy<=92%"]) == 2
    assert "unknown KPI 'acute_occupancy'" in one_error_line(capsys)


def test_a_port_in_use_is_refused(dashboard_results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dashboard", str(dashboard_results), "--port", str(port)]) == 2
    assert f"cannot serve on 127.0.0.1:{port}" in one_error_line(capsys)


def test_other_commands_do_not_import_dash() -> None:
    code = "import sys, flowsim.cli; sys.exit('dash' in sys.modules or 'pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0
