"""What validates, runs: hostile configs get one clean line naming the key, or a run that
completes with everyone counted.

A property-based test mutates configs/small.yaml (wrong types, non-finite and huge numbers,
probabilities past 1, incomplete maps, zero profiles, impossible dates, interventions at
sites that do not exist, YAML attacks) and writes each mutant as a whole file. Every mutant
is either refused with a `ConfigError` of one line naming the file and the key, or runs a
few days with conservation holding. The CLI test then checks what a user sees: exit
status 2 and one line on stderr.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flowsim.config import ConfigError, canonical_json, load_config

REPO = Path(__file__).resolve().parents[1]
SMALL = REPO / "configs" / "small.yaml"
# A run of a few days is enough to cross warm-up, a weekend of electives and every pool.
SHORT_RUN = {"warmup_days": 1, "horizon_days": 3}
# Sizes up to the schema's bound (3 million people) are measured in the report, not here.
LARGEST_TEST_POPULATION = 240_000

Path_ = tuple[str | int, ...]


@cache
def small_config() -> dict[str, Any]:
    """small.yaml merged and complete (defaults spelled out), as plain data, with a short run."""
    data = json.loads(canonical_json(load_config(SMALL)))
    data["run"].update(SHORT_RUN)
    data["run"]["start_date"] = dt.date.fromisoformat(data["run"]["start_date"])
    return data


def leaves(node: Any, path: Path_ = ()) -> list[tuple[Path_, Any]]:
    """Every key path of the config (mappings, lists and values) with what it holds."""
    out = [(path, node)] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += leaves(value, (*path, i))
    return out


def dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def dump(data: dict[str, Any]) -> str:
    """The config as YAML (libyaml's emitter when present: the pure-Python one is 4 times slower)."""
    return yaml.dump(
        data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False, allow_unicode=True
    )


def set_at(data: dict[str, Any], path: Path_, value: Any) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def drop_at(data: dict[str, Any], path: Path_) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]


# --------------------------------------------------------------------------------------
# Mutations: (kind, the key path it touches, the mutated config as data or as YAML text)

HOSTILE_NUMBERS = st.one_of(
    st.sampled_from([-1, 0, 1e-300, 1.5, 1e4, 1e9, 1e15, 1e300, 2**63, 10**30, -(10**30)]),
    st.sampled_from([math.inf, -math.inf, math.nan]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
)
HOSTILE_TEXT = st.sampled_from(["", "x" * 300, "bell\x07", "esc\x1b[2J", "..", "a/b", "línea"])
HOSTILE_DATES = st.one_of(
    st.sampled_from([dt.date.max, dt.date(9999, 6, 1), dt.date.min, "2016-02-30", "2016-13-01"]),
    st.dates(),
)


@st.composite
def mutants(draw: st.DrawFn) -> tuple[str, Path_, Any]:
    base = copy.deepcopy(small_config())
    paths = leaves(base)
    numbers = [(p, v) for p, v in paths if isinstance(v, (int, float)) and not isinstance(v, bool)]
    kind = draw(
        st.sampled_from(
            [
                "number",
                "scale",
                "boolean",
                "probability",
                "text",
                "drop",
                "unknown key",
                "list length",
                "zero profile",
                "date",
                "intervention",
                "yaml",
            ]
        )
    )
    if kind == "number":
        path, _ = draw(st.sampled_from(numbers))
        set_at(base, path, draw(HOSTILE_NUMBERS))
    elif kind == "scale":  # a count or rate with zeros too many (or too few)
        path, value = draw(st.sampled_from(numbers))
        factor = 10 ** draw(st.integers(min_value=-6, max_value=12))
        set_at(base, path, value * factor if isinstance(value, float) or factor < 1 else int(value * factor))
    elif kind == "boolean":
        path, _ = draw(st.sampled_from(numbers + [(("outputs", "episodes"), False)]))
        set_at(
            base,
            path,
            draw(st.sampled_from([True, False, 1, 0])) if path[-1] == "episodes" else draw(st.booleans()),
        )
    elif kind == "probability":
        shares = [
            (p, v)
            for p, v in numbers
            if isinstance(v, float)
            and 0 <= v <= 1
            and any(w in dotted(p) for w in ("share", "probab", "death", "occupancy"))
        ]
        path, _ = draw(st.sampled_from(shares))
        set_at(base, path, draw(st.sampled_from([1.0000001, 1.5, 2.0, 100.0, -0.1])))
    elif kind == "text":
        path = draw(
            st.sampled_from(
                [("name",), ("description",), ("costs", "price_base"), ("acute", "sites", 0, "name")]
            )
        )
        set_at(base, path, draw(HOSTILE_TEXT))
    elif kind == "drop":
        path, _ = draw(st.sampled_from([(p, v) for p, v in paths if not isinstance(p[-1], int)]))
        drop_at(base, path)
    elif kind == "unknown key":
        path, _ = draw(st.sampled_from([(p, v) for p, v in paths if isinstance(v, dict)] + [((), base)]))
        node = base
        for part in path:
            node = node[part]
        node["bogus"] = 1
        path = (*path, "bogus")
    elif kind == "list length":
        path, value = draw(st.sampled_from([(p, v) for p, v in paths if isinstance(v, list) and v]))
        change = draw(st.sampled_from(["empty", "shorter", "longer"]))
        set_at(
            base, path, [] if change == "empty" else value[:-1] if change == "shorter" else value + value[-1:]
        )
    elif kind == "zero profile":
        path, value = draw(
            st.sampled_from(
                [(p, v) for p, v in paths if isinstance(v, list) and v and not isinstance(v[0], (dict, list))]
            )
        )
        set_at(base, path, [0] * len(value))
    elif kind == "date":
        path = ("run", "start_date")
        set_at(base, path, draw(HOSTILE_DATES))
    elif kind == "intervention":
        path = ("interventions", 0)
        base["interventions"] = [draw(interventions())]
    else:
        return draw(yaml_attacks(base, paths))
    return kind, path, base


COSTED = {"name": "a service", "annual_cost": 1e5, "payer": "ccg", "start_day": 0, "ramp_days": 2}
SERVICE_LEVERS = [
    {
        "kind": "proactive_care",
        "min_frailty": "moderate",
        "walk_in_change": -0.2,
        "ambulance_change": -0.2,
        "gp_capacity_change": 0.1,
        "lag_days": 1,
        **COSTED,
    },
    {"kind": "care_home_support", "attendance_change": -0.2, "admission_change": -0.1, **COSTED},
    {"kind": "admission_avoidance", "extra_slots": 10, "eligible_share": 0.2, **COSTED},
    {
        "kind": "discharge_to_assess",
        "assessment_moved_share": 1.0,
        "pathway_shift": 0.5,
        "goal_shares": {"P1": 0.45, "P2": 0.04, "P3": 0.01},
        **COSTED,
    },
    {
        "kind": "seven_day_discharge",
        "weekend_discharge_factor": 0.8,
        "assessment_hours_change": -0.2,
        **COSTED,
    },
]


@st.composite
def interventions(draw: st.DrawFn) -> dict[str, Any]:
    lever = draw(
        st.sampled_from(
            [
                {
                    "kind": "capacity",
                    "name": "more beds",
                    "pool": "acute",
                    "relative_change": 0.2,
                    "start_day": 1,
                    "ramp_days": 2,
                },
                {
                    "kind": "running_cost",
                    "name": "new team",
                    "payer": "ccg",
                    "annual_cost": 1e5,
                    "start_day": 0,
                    "end_day": 3,
                },
                {
                    "kind": "demand",
                    "name": "falls service",
                    "relative_change": -0.1,
                    "start_day": 0,
                    "min_age_band": "75-84",
                },
                *SERVICE_LEVERS,
            ]
        )
    )
    field = draw(st.sampled_from(sorted(k for k in lever if k != "kind") + ["site", "pool", "residence"]))
    lever[field] = draw(
        st.one_of(
            HOSTILE_NUMBERS,
            st.sampled_from(["nowhere", "north", "care_home", "home", "", True, None, 10**9]),
        )
    )
    return lever


@st.composite
def yaml_attacks(draw: st.DrawFn, base: dict[str, Any], paths: list) -> tuple[str, Path_, str]:
    """The config as YAML text with an attack on the reader in it."""
    text = dump(base)
    attack = draw(st.sampled_from(["control character", "alias bomb", "deep nesting", "duplicate key"]))
    if attack == "control character":
        at = draw(st.integers(min_value=0, max_value=len(text) - 1))
        char = draw(st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "\x9b"]))
        return f"yaml: {attack}", (), text[:at] + char + text[at:]
    if attack == "alias bomb":
        bomb = ["lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        bomb += [f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
        return f"yaml: {attack}", (), "\n".join(bomb) + "\n" + text
    if attack == "deep nesting":
        depth = draw(st.integers(min_value=21, max_value=20_000))
        return (
            f"yaml: {attack}",
            (),
            text.replace("description:", "description: " + "[" * depth + "]" * depth + "\nx_description:", 1),
        )
    key = text.splitlines()[draw(st.integers(min_value=0, max_value=len(text.splitlines()) - 1))]
    return (
        f"yaml: {attack}",
        (),
        text + key.lstrip() + "\n" if ":" in key and not key.startswith(" ") else text + "name: twice\n",
    )


# --------------------------------------------------------------------------------------
# The property


def write_mutant(folder: Path, mutant: dict[str, Any] | str) -> Path:
    path = folder / "mutant.yaml"
    text = mutant if isinstance(mutant, str) else dump(mutant)
    path.write_text(text, encoding="utf-8")
    return path


def key_of(message: str, label: str) -> str:
    """The key path an error names: `file[:line[:col]]: KEY: problem` -> KEY."""
    rest = message[len(label) :].lstrip(":0123456789 ")
    return rest.split(": ", 1)[0]


def names_the_key(message: str, label: str, path: Path_) -> bool:
    """The error names the mutated key, a key inside it, the section holding it, or (for a
    rule across keys) the mutated key among the keys it lists."""
    named = key_of(message, label)
    mutated = dotted(path)

    def within(inner: str, outer: str) -> bool:
        return inner == outer or inner.startswith((f"{outer}.", f"{outer}["))

    related = within(mutated, named) or within(named, mutated)
    leaf = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
    return related or (named.split(".")[0] == mutated.split(".")[0] and leaf in message)


@pytest.mark.integration
@pytest.mark.slow
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mutants())
def test_every_mutant_is_refused_by_key_or_runs_with_everyone_counted(mutant: tuple[str, Path_, Any]) -> None:
    from flowsim.model import simulate

    kind, path, config = mutant
    with tempfile.TemporaryDirectory() as folder:
        file = write_mutant(Path(folder), config)
        label = str(file)
        try:
            loaded = load_config(file)
        except ConfigError as exc:
            message = str(exc)
            assert "\n" not in message, f"{kind}: not one line: {message!r}"
            assert message.startswith(label), f"{kind}: does not name the file: {message}"
            if kind.startswith("yaml"):  # named by its file, line and column
                assert re.match(rf"{re.escape(label)}:\d+:\d+: YAML syntax error: ", message), message
            else:
                assert names_the_key(message, label, path), f"{kind} at {dotted(path)}: {message}"
            event(f"{kind}: refused")  # --hypothesis-show-statistics counts them
            return
    # It validated, so it must run: kept short, at a size a test can afford.
    data = loaded.model_dump()
    data["run"].update(SHORT_RUN)
    data["population"]["size"] = min(data["population"]["size"], LARGEST_TEST_POPULATION)
    output = simulate(type(loaded).model_validate(data), 0)
    assert output.tables["kpis"].column("conservation_ok")[0].as_py() is True, f"{kind} at {dotted(path)}"
    event(f"{kind}: ran, everyone counted")


# --------------------------------------------------------------------------------------
# What a user sees from the command line


BAD_FILES = {
    "intervention_site.yaml": (
        "extends: {small}\ninterventions:\n  - {{kind: capacity, name: cut, pool: acute, site: nowhere, "
        "relative_change: -0.1, start_day: 0}}\n",
        "interventions[0].site: unknown site 'nowhere'",
    ),
    "infinite_cost.yaml": (
        "extends: {small}\ncosts:\n  care_home_day: {{unit_cost: .inf}}\n",
        "costs.care_home_day.unit_cost: Input should be a finite number",
    ),
    "true_beds.yaml": (
        "extends: {small}\ncommunity:\n  community_beds: true\n",
        "community.community_beds: Input should be a valid integer",
    ),
    "end_of_calendar.yaml": (
        "extends: {small}\nrun:\n  start_date: 9999-12-01\n",
        "run.start_date: a run of",
    ),
    "bomb.yaml": (
        "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
        "expands to more than 20,000 values",
    ),
}


def flowsim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's flowsim, from any folder
    return subprocess.run(
        [sys.executable, "-m", "flowsim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


@pytest.mark.e2e
def test_the_command_refuses_bad_files_with_one_line_and_exit_2(tmp_path: Path) -> None:
    for name, (text, _) in BAD_FILES.items():
        (tmp_path / name).write_text(text.format(small=SMALL), encoding="utf-8")
    (tmp_path / "folder.yaml").mkdir()
    cases = [
        ("validate", "intervention_site.yaml"),
        ("validate", "infinite_cost.yaml"),
        ("validate", "true_beds.yaml"),
        ("validate", "bomb.yaml"),
        ("run", "end_of_calendar.yaml"),
        ("run", "folder.yaml"),
    ]
    expected_of = {name: expected for name, (_, expected) in BAD_FILES.items()} | {
        "folder.yaml": "is a folder"
    }
    for command, name in cases:
        expected = expected_of[name]
        args = [command, name] + (["--out", str(tmp_path / "results"), "--quiet"] if command == "run" else [])
        result = flowsim(*args, cwd=tmp_path)
        lines = result.stderr.splitlines()
        assert result.returncode == 2, (command, name, result.stderr)
        assert len(lines) == 1, (command, name, result.stderr)
        assert lines[0].startswith(f"error: {name}"), lines[0]  # names the file ...
        assert expected in lines[0], lines[0]  # ... and the key, or what is wrong with the file
    assert not (tmp_path / "results").exists()  # nothing written for a refused config


CLI_MISUSES = [
    (
        ["validate", "{small}", "--set", "acute.sites[0].beds=true"],
        "acute.sites[0].beds: Input should be a valid integer",
    ),
    (
        ["validate", "{small}", "--set", "costs.gp_consultation.unit_cost=.inf"],
        "unit_cost: Input should be a finite number",
    ),
    (
        ["validate", "{small}", "--set", "name=" + "[" * 5000],
        "name: String should have at most 64 characters",
    ),
    (
        ["validate", "{small}", "--set", "run.start_date=2016-02-30"],
        "run.start_date: not a date of the calendar",
    ),
    (["validate", "{small}", "--set", "interventions[0].site=x"], "interventions is a list of 0 items"),
    (
        ["run", "{small}", "--horizon-days", "100000", "--out", "{out}"],
        "run.horizon_days: Input should be less than",
    ),
    (
        ["run", "{small}", "--replications", "1000000", "--out", "{out}"],
        "run.replications: Input should be less than",
    ),
    (["run", "{small}", "--seed", str(2**70), "--out", "{out}"], "run.seed: Input should be less than"),
    (["run", "{fifo}", "--out", "{out}"], "is not a regular file"),
]


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("args", "expected"), CLI_MISUSES, ids=[expected.split(":")[0] for _, expected in CLI_MISUSES]
)
def test_command_line_misuse_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    from flowsim.cli import main

    fifo = tmp_path / "fifo.yaml"
    if "{fifo}" in args:
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs on this system")
        os.mkfifo(fifo)
    out = tmp_path / "results"
    argv = [a.format(small=SMALL, out=out, fifo=fifo) for a in args]
    assert main(argv) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines
    assert not out.exists()
