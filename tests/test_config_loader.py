"""The config loader: `extends:` chains, deep merge, overrides, one-line errors, hashes.

Most tests use a small stand-in schema (`Mini`) so they exercise the loader alone; the
last ones load the shipped configs against the real schema.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import textwrap
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from flowsim.config.loader import (
    ConfigError,
    canonical_json,
    config_from_canonical,
    config_hash,
    deep_merge,
    load_config,
    parse_overrides,
)

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Run(Strict):
    start_date: dt.date
    horizon_days: Annotated[int, Field(ge=1)]
    warmup_days: Annotated[int, Field(ge=0)] = 0
    seed: Annotated[int, Field(ge=0)]
    replications: Annotated[int, Field(ge=1)] = 1


class Site(Strict):
    name: str
    beds: Annotated[int, Field(ge=0)]


class Acute(Strict):
    beds_scale: Annotated[float, Field(gt=0)] = 1.0
    sites: list[Site]
    los_days: dict[str, float] = {}
    max_wait_hours: float = float("inf")


class Outputs(Strict):
    episodes: bool = False


class Mini(Strict):
    """A stand-in for FlowsimConfig with the same shape where it matters."""

    schema_version: Literal[1]
    name: str
    description: str = ""
    run: Run
    acute: Acute
    outputs: Outputs = Outputs()


BASE = """\
schema_version: 1
name: base
run:
  start_date: 2016-04-01
  horizon_days: 365
  warmup_days: 60
  seed: 1
acute:
  beds_scale: 1.0
  sites:
    - {name: north, beds: 900}
    - {name: south, beds: 500}
  los_days: {young: 3.0, old: 9.0}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(path: Path, overrides: dict | None = None) -> Mini:
    return load_config(path, overrides, schema=Mini)


def error_of(path: Path, overrides: dict | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load(path, overrides)
    message = str(info.value)
    assert "\n" not in message, "a config error is one line"
    return message


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return write(tmp_path, "base.yaml", BASE)


# --- extends and merging ---------------------------------------------------------------


def test_a_plain_file_loads_into_the_schema(base: Path) -> None:
    config = load(base)
    assert config.name == "base"
    assert config.run.start_date == dt.date(2016, 4, 1)
    assert [s.beds for s in config.acute.sites] == [900, 500]


def test_extends_chain_merges_mappings_and_replaces_lists(tmp_path: Path, base: Path) -> None:
    """Mappings merge key by key through every level; a list replaces the list below."""
    write(
        tmp_path,
        "scenarios/winter.yaml",
        """\
        extends: ../base.yaml
        name: winter
        run: {seed: 2}
        acute:
          los_days: {old: 11.0}
        """,
    )
    leaf = write(
        tmp_path,
        "scenarios/deep/cut.yaml",
        """\
        extends: ../winter.yaml
        name: cut
        acute:
          beds_scale: 0.9
          sites:
            - {name: merged, beds: 1200}
        """,
    )
    config = load(leaf)
    assert config.name == "cut"
    assert config.run.seed == 2 and config.run.horizon_days == 365  # merged, not replaced
    assert config.acute.los_days == {"young": 3.0, "old": 11.0}
    assert config.acute.beds_scale == 0.9
    assert [(s.name, s.beds) for s in config.acute.sites] == [("merged", 1200)]


def test_extends_cycle_is_an_error(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    message = error_of(a)
    assert message == f"{_shown(tmp_path / 'b.yaml')}:1: extends: cycle a.yaml -> b.yaml -> a.yaml"


def test_extends_of_a_missing_file_names_the_extending_file(tmp_path: Path) -> None:
    leaf = write(tmp_path, "leaf.yaml", "name: x\nextends: nowhere.yaml\n")
    message = error_of(leaf)
    assert message.startswith(f"{_shown(leaf)}:2: extends: file not found")
    assert "nowhere.yaml" in message


def test_extends_must_be_a_path(tmp_path: Path) -> None:
    leaf = write(tmp_path, "leaf.yaml", "extends: [a.yaml]\n")
    assert "extends: expected the path" in error_of(leaf)


def test_deep_merge_rules() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    deep_merge(base, {"a": {"c": [3]}, "d": {"e": 1}})
    assert base == {"a": {"b": 1, "c": [3]}, "d": {"e": 1}}


# --- overrides -------------------------------------------------------------------------


def test_overrides_are_applied_before_validation(base: Path) -> None:
    config = load(base, {"run.seed": 7, "acute.beds_scale": 0.8, "acute.sites[1].beds": 450})
    assert config.run.seed == 7
    assert config.acute.beds_scale == 0.8
    assert config.acute.sites[1].beds == 450
    assert load(base, {"acute.sites.1.beds": 451}).acute.sites[1].beds == 451


def test_overrides_are_revalidated(base: Path) -> None:
    """An override is checked like a value in a file (no model_copy shortcut)."""
    message = error_of(base, {"acute.beds_scale": -1})
    assert message.startswith(f"{_shown(base)} (override): acute.beds_scale: ")
    assert "greater than 0" in message and "(got -1)" in message


def test_unknown_override_key_names_file_and_key_path(base: Path) -> None:
    message = error_of(base, {"acute.bed_scale": 0.9})
    assert (
        message
        == f"{_shown(base)} (override): acute.bed_scale: unknown key 'bed_scale' (did you mean 'beds_scale'?)"
    )


def test_override_through_a_value_or_past_a_list_is_an_error(base: Path) -> None:
    assert "run.seed is int 1, not a mapping" in error_of(base, {"run.seed.x": 1})
    assert "run.seed is int 1, not a mapping" in error_of(base, {"run.seed.x.y": 1})
    assert "run is a mapping, not a list" in error_of(base, {"run.0": 1})
    assert "acute.sites is a list of 2 items" in error_of(base, {"acute.sites[5].beds": 1})
    assert "expected a dotted key path" in error_of(base, {"acute..beds": 1})


def test_parse_overrides_reads_values_as_yaml() -> None:
    assert parse_overrides(["run.seed=7", "acute.beds_scale=0.9", "outputs.episodes=true", "name=x"]) == {
        "run.seed": 7,
        "acute.beds_scale": 0.9,
        "outputs.episodes": True,
        "name": "x",
    }
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_overrides(["run.seed"])


# --- errors name the file, the line and the key path ----------------------------------


def test_unknown_key_in_a_base_file_names_that_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE.replace("  beds_scale: 1.0\n", "  beds_scale: 1.0\n  bogus: 3\n"))
    leaf = write(tmp_path, "leaf.yaml", "extends: base.yaml\nname: leaf\n")
    message = error_of(leaf)
    assert message.startswith(f"{_shown(tmp_path / 'base.yaml')}:10: acute.bogus: unknown key 'bogus'")
    assert "expected one of: beds_scale, los_days, max_wait_hours, sites" in message


def test_a_bad_value_names_the_file_that_set_it(tmp_path: Path, base: Path) -> None:
    leaf = write(tmp_path, "leaf.yaml", "extends: base.yaml\nacute:\n  sites:\n    - {name: x, beds: -3}\n")
    message = error_of(leaf)
    assert message.startswith(
        f"{_shown(leaf)}:4: acute.sites[0].beds: Input should be greater than or equal to 0"
    )


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", BASE.replace("  seed: 1\n", ""))
    assert error_of(path) == f"{_shown(path)}:3: run.seed: required key is missing"


def test_several_problems_are_counted_on_the_one_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.yaml",
        BASE.replace("seed: 1", "seed: -1").replace("horizon_days: 365", "horizon_days: 0"),
    )
    with pytest.raises(ConfigError) as info:
        load(path)
    assert len(info.value.problems) == 2
    assert str(info.value).endswith("(and 1 more problem)")


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "name: x\nrun:\n  seed: [1, 2\n")
    assert error_of(path).startswith(f"{_shown(path)}:4:1: YAML syntax error: ")


def test_a_key_given_twice_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "name: x\nname: y\n")
    assert error_of(path) == f"{_shown(path)}:2:1: YAML syntax error: duplicate key 'name'"


def test_missing_file_and_wrong_top_level(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nope.yaml") == f"{_shown(tmp_path / 'nope.yaml')}: file not found"
    path = write(tmp_path, "list.yaml", "- 1\n- 2\n")
    assert "expected a mapping of settings" in error_of(path)


# --- canonical JSON and hash -----------------------------------------------------------


def test_canonical_json_is_compact_sorted_and_iso_dated(base: Path) -> None:
    text = canonical_json(load(base))
    assert " " not in text.replace('" ', "").replace(' "', "")  # no whitespace between tokens
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert data["run"]["start_date"] == "2016-04-01"
    assert data["acute"]["max_wait_hours"] == "Infinity"  # strict JSON, read back by pydantic


def test_hash_is_stable_across_layout_order_and_number_spelling(tmp_path: Path, base: Path) -> None:
    """Same values, written differently (key order, 1 vs 1.0, a default spelled out): same hash."""
    reordered = write(
        tmp_path,
        "other.yaml",
        """\
        acute:
          los_days: {old: 9, young: 3}
          sites: [{beds: 900, name: north}, {beds: 500, name: south}]
          beds_scale: 1
        run: {seed: 1, warmup_days: 60, horizon_days: 365, start_date: 2016-04-01, replications: 1}
        name: base
        schema_version: 1
        outputs: {episodes: false}
        """,
    )
    assert config_hash(load(base)) == config_hash(load(reordered))
    assert config_hash(load(base)) == config_hash(load(base))


def test_hash_changes_with_any_value(base: Path) -> None:
    reference = config_hash(load(base))
    for override in (
        {"run.seed": 2},
        {"acute.beds_scale": 0.9999999},
        {"description": "x"},
        {"acute.sites[0].name": "n"},
    ):
        assert config_hash(load(base, override)) != reference, override


def test_canonical_round_trip(base: Path) -> None:
    config = load(base, {"acute.max_wait_hours": 5.25})
    text = canonical_json(config)
    again = config_from_canonical(text, schema=Mini)
    assert again == config
    assert canonical_json(again) == text
    assert config_from_canonical(canonical_json(load(base)), schema=Mini).acute.max_wait_hours == float("inf")


def test_config_from_canonical_errors_are_one_line() -> None:
    with pytest.raises(ConfigError, match="invalid JSON"):
        config_from_canonical("{not json", schema=Mini)
    with pytest.raises(ConfigError, match="required key is missing"):
        config_from_canonical('{"schema_version": 1}', schema=Mini)


# --- the real schema and the shipped configs -------------------------------------------


SHIPPED = sorted(p for pattern in ("configs/*.yaml", "configs/scenarios/*.yaml") for p in REPO.glob(pattern))


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(REPO)) for p in SHIPPED])
def test_shipped_configs_validate(path: Path) -> None:
    config = load_config(path)
    assert config_from_canonical(canonical_json(config)) == config


def test_a_scenario_extends_the_footprint(tmp_path: Path) -> None:
    footprint = REPO / "configs" / "footprint.yaml"
    scenario = write(
        tmp_path,
        "fewer_beds.yaml",
        f"""\
        extends: {os.path.relpath(footprint, tmp_path)}
        name: fewer_beds
        acute: {{beds_scale: 0.9}}
        """,
    )
    config = load_config(scenario, {"run.seed": 7})
    base = load_config(footprint)
    assert (config.name, config.acute.beds_scale, config.run.seed) == ("fewer_beds", 0.9, 7)
    assert config.acute.sites == base.acute.sites
    assert config_hash(config) != config_hash(base)


def test_real_schema_error_names_file_line_and_key(tmp_path: Path) -> None:
    footprint = REPO / "configs" / "footprint.yaml"
    scenario = write(tmp_path, "typo.yaml", f"extends: {footprint}\nacute:\n  bed_scale: 0.9\n")
    with pytest.raises(ConfigError) as info:
        load_config(scenario)
    assert (
        str(info.value)
        == f"{_shown(scenario)}:3: acute.bed_scale: unknown key 'bed_scale' (did you mean 'beds_scale'?)"
    )


def _shown(path: Path) -> str:
    """A path as the loader shows it (relative to the working folder when inside it)."""
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel


def test_a_readmission_multiplier_below_one_is_refused():
    from pathlib import Path

    from flowsim.config import ConfigError, load_config

    footprint = Path(__file__).resolve().parents[1] / "configs" / "footprint.yaml"
    with pytest.raises(ConfigError, match="recent_discharge_multiplier"):
        load_config(footprint, {"population.demand.recent_discharge_multiplier": 0.5})


# --- hostile YAML: one line, never a hang, a traceback or a memory blow-up ---------------


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    """Nine levels of nine aliases stand for 387 million values in a 1 kB file."""
    lines = ['a0: &a0 "lol"']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    path = write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    message = error_of(path)
    assert message.startswith(f"{_shown(path)}:")
    assert "expands to more than 20,000 values" in message


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "loop.yaml", "name: &a [1, *a]\n")
    assert "an alias names a value that contains it" in error_of(path)


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", BASE.replace("name: base", "name: &n base\ndescription: *n"))
    assert load(path).description == "base"


def test_very_deep_nesting_is_refused_without_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.yaml", "name: " + "[" * 5000 + "]" * 5000 + "\n")
    message = error_of(path)
    assert message.startswith(f"{_shown(path)}:1:")
    assert "nested more than 20 levels deep" in message


def test_a_control_character_is_refused_with_its_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", BASE.replace("name: base", "name: ba\x07se"))
    assert error_of(path) == (
        f"{_shown(path)}:2:9: YAML syntax error: character U+0007 is not allowed (a control or non-printable character)"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "config.yaml"
    os.mkfifo(fifo)
    assert error_of(fifo) == (
        f"{_shown(fifo)}: is not a regular file (a FIFO, device or socket), expected a YAML config file"
    )
    leaf = write(tmp_path, "leaf.yaml", "extends: config.yaml\n")
    assert "is not a regular file" in error_of(leaf)


def test_a_device_a_folder_and_a_huge_file_are_refused(tmp_path: Path) -> None:
    if Path("/dev/zero").exists():
        assert error_of(Path("/dev/zero")).endswith(
            "is not a regular file (a FIFO, device or socket), expected a YAML config file"
        )
    assert error_of(tmp_path).endswith(": is a folder, expected a YAML config file")
    huge = write(tmp_path, "huge.yaml", BASE + "description: " + "x" * 256_001 + "\n")
    assert "larger than 256,000 bytes" in error_of(huge)


def test_an_unreadable_number_or_date_is_one_line(tmp_path: Path) -> None:
    # Python refuses to convert an int of more than 4,300 digits.
    path = write(tmp_path, "c.yaml", BASE.replace("seed: 1", "seed: " + "9" * 5000))
    assert error_of(path).startswith(f"{_shown(path)}:7:9: YAML syntax error: cannot read '99999")


def test_an_impossible_date_is_refused_at_its_key(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", BASE.replace("2016-04-01", "2016-02-30"))
    message = error_of(path)
    assert message.startswith(f"{_shown(path)}:4: run.start_date: ")


def test_a_long_extends_chain_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "c0.yaml", BASE)
    for i in range(1, 40):
        write(tmp_path, f"c{i}.yaml", f"extends: c{i - 1}.yaml\n")
    assert "extends: a chain of more than 32 files" in error_of(tmp_path / "c39.yaml")


def test_an_override_value_that_is_a_bomb_is_only_text() -> None:
    bomb = (
        "[&a [1,1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b],"
        + ("&d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]]")
    )
    assert parse_overrides([f"name={bomb}"]) == {"name": bomb}
    assert parse_overrides(["name=" + "[" * 3000]) == {"name": "[" * 3000}
    assert parse_overrides(["acute.beds_scale=0.9"]) == {"acute.beds_scale": 0.9}


# --- the real schema refuses what the model cannot do, naming the key ------------------

SMALL = REPO / "configs" / "small.yaml"


def real_error(overrides: dict) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(SMALL, overrides)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"acute.sites[0].beds": True}, "acute.sites[0].beds: Input should be a valid integer (got True)"),
        ({"acute.beds_scale": True}, "acute.beds_scale: Input should be a valid number (got True)"),
        ({"outputs.episodes": 1}, "outputs.episodes: Input should be a valid boolean (got 1)"),
        ({"schema_version": True}, "schema_version: expected 1, got True"),
        (
            {"costs.care_home_day.unit_cost": float("inf")},
            "costs.care_home_day.unit_cost: Input should be a finite number",
        ),
        ({"acute.los_cv": float("nan")}, "acute.los_cv: Input should be a finite number"),
        (
            {"emergency.admit_probability.85+": 1.2},
            "emergency.admit_probability.85+: Input should be less than or equal to 1",
        ),
        ({"population.size": 10**9}, "population.size: Input should be less than or equal to 3000000"),
        (
            {"community.community_beds": 10**12},
            "community.community_beds: Input should be less than or equal to 3000000",
        ),
        (
            {"population.practices": 10**9},
            "population.practices: Input should be less than or equal to 10000",
        ),
        (
            {"acute.elective_admissions_per_weekday": 10_000.0},
            "acute.elective_admissions_per_weekday: 10,000 a weekday would take 3,200 of the 30,120 people aged 45-64",
        ),
        (
            {
                "population.age_shares": {
                    "0-15": 0.0,
                    "16-44": 0.57,
                    "45-64": 0.251,
                    "65-74": 0.098,
                    "75-84": 0.057,
                    "85+": 0.024,
                }
            },
            "population.age_shares: every age band needs people (a share of at least 0.005); not 0-15",
        ),
        (
            {"population.demand.hour_profile": [0] * 24},
            "population.demand.hour_profile: needs at least one hour",
        ),
        (
            {"run.start_date": "2016-02-30"},
            "run.start_date: not a date of the calendar (day is out of range for month) (got '2016-02-30')",
        ),
        (
            {"run.start_date": dt.date(9999, 1, 1)},
            "run.start_date: a run of 120 days from 9999-01-01 ends too near",
        ),
        ({"name": "x" * 65}, "name: String should have at most 64 characters"),
        ({"name": ".."}, "name: String should match pattern"),
        ({"acute.sites[0].name": "a/b"}, "acute.sites[0].name: String should match pattern"),
        ({"description": "line\x1b[2J"}, "description: must be printable text"),
        (
            {"population.care_home_share.85+": 0.95},
            "population.care_home_share.85+: home_care_share + care_home_share",
        ),
        (
            {"community.community_onward_care_home": 0.9},
            "community.community_onward_care_home: community_onward_home_care +",
        ),
        (
            {"primary_care.direct_admission_share": 0.9999},
            "primary_care.direct_admission_share: referral_to_ae_share +",
        ),
        (
            {"acute.elective_age_shares.85+": 0.5},
            "acute.elective_age_shares: elective age shares must sum to 1",
        ),
        (
            {"emergency.assessment_hours.cv": 1e200},
            "emergency.assessment_hours.cv: Input should be less than or equal to 10",
        ),
        (
            {"population.demand.frailty_multiplier": [0.0, 1.0, 1.0, 1.0]},
            "population.demand.frailty_multiplier[0]: Input should be greater",
        ),
        (
            {"population.demand.gp_contacts_per_person_py.85+": 90.0},
            "population.demand: the person most at risk could have",
        ),
        (
            {"population.demand.ambulance_per_1000_py.85+": 5000.0},
            "ambulance arrivals a year (the warm start",
        ),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else None,
)
def test_what_the_model_cannot_do_is_refused_at_its_key(override: dict, expected: str) -> None:
    message = real_error(override)
    assert message.startswith(f"{_shown(SMALL)} (override): ") or message.startswith(
        "configs/footprint.yaml:"
    )
    if expected is None:  # an incomplete map: the key and what is missing
        assert "pathways.assessment_hours: needs a value for P1, P2 and P3; missing P3" in message
    else:
        assert expected in message, message


def standalone(tmp_path: Path, drop: tuple[str, ...]) -> Path:
    """small.yaml as one file without `extends:` (mappings would merge the key back), less a key."""
    import yaml

    data = json.loads(canonical_json(load_config(SMALL)))
    node = data
    for part in drop[:-1]:
        node = node[part]
    del node[drop[-1]]
    path = tmp_path / "standalone.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def real_error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        (("acute", "los_days", "85+"), "acute.los_days: needs a value for every age band; missing 85+"),
        (
            ("population", "demand", "walk_in_per_1000_py", "0-15"),
            "population.demand.walk_in_per_1000_py: needs a value for every age band; missing 0-15",
        ),
        (
            ("pathways", "assessment_hours", "P3"),
            "pathways.assessment_hours: needs a value for P1, P2 and P3; missing P3",
        ),
        (
            ("pathways", "delay_reasons", "care_home"),
            "pathways.delay_reasons: needs the kinds of home, reablement, community_beds and care_home; missing care_home",
        ),
    ],
)
def test_every_map_by_age_band_or_pathway_is_complete(
    tmp_path: Path, drop: tuple[str, ...], expected: str
) -> None:
    path = standalone(tmp_path, drop)
    message = real_error_of(path)
    assert message.startswith(f"{_shown(path)}:")
    assert expected in message


def test_an_intervention_at_a_site_that_does_not_exist_names_its_line(tmp_path: Path) -> None:
    footprint = REPO / "configs" / "footprint.yaml"
    scenario = write(
        tmp_path,
        "cut.yaml",
        f"""\
        extends: {footprint}
        interventions:
          - kind: capacity
            name: close a ward
            pool: acute
            site: nowhere
            relative_change: -0.1
            start_day: 0
        """,
    )
    assert real_error_of(scenario) == (
        f"{_shown(scenario)}:6: interventions[0].site: unknown site 'nowhere'; the sites are north, central, south"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"pool": "community_beds", "site": "north"},
            "interventions[0].site: a site applies to pool acute only",
        ),
        ({"ramp_days": 10**9}, "interventions[0].ramp_days: Input should be less than or equal to 9125"),
        (
            {"relative_change": 1e6},
            "interventions[0].relative_change: Input should be less than or equal to 10",
        ),
        ({"name": ""}, "interventions[0].name: String should have at least 1 character"),
    ],
)
def test_a_capacity_change_the_model_cannot_make_is_refused(change: dict, expected: str) -> None:
    lever = {"kind": "capacity", "name": "more", "pool": "acute", "relative_change": 0.5, "start_day": 0}
    assert expected in real_error({"interventions": [lever | change]})


def test_compounding_capacity_changes_stay_within_the_places_a_pool_can_hold() -> None:
    lever = {"kind": "capacity", "name": "more", "pool": "care_home", "relative_change": 10.0, "start_day": 0}
    message = real_error({"interventions": [lever] * 6})  # 630 places x 11 ** 6
    assert message.endswith(
        "interventions: care_home would have 1,116,083,430 places after the capacity changes; "
        "at most 3,000,000 (one for each person of the largest footprint)"
    )


def test_a_running_cost_must_end_after_it_starts() -> None:
    lever = {
        "kind": "running_cost",
        "name": "team",
        "payer": "ccg",
        "annual_cost": 1.0,
        "start_day": 5,
        "end_day": 5,
    }
    assert "interventions[0].end_day: must be after start_day (5)" in real_error({"interventions": [lever]})


def test_a_nul_character_in_a_path_is_refused(tmp_path: Path) -> None:
    assert error_of(Path("a\x00b.yaml")) == "'a\\x00b.yaml': not a valid path (it holds a NUL character)"
    leaf = write(tmp_path, "leaf.yaml", 'extends: "a\\0b.yaml"\n')
    assert "extends: expected the path of the config this one builds on" in error_of(leaf)
