"""Shared fixtures: small, hand-made pieces of the model's infrastructure for unit tests."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from flowsim._core import PythonBoard
from flowsim.clock import CoreClock, DayEnvironment
from flowsim.config import load_config
from flowsim.ledger import Ledger
from flowsim.pools import Pools
from flowsim.population import Population

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def compiled(implementation, module: str):
    """A compiled part of the core, or skip the test (fail when FLOWSIM_REQUIRE_EXT=1 says
    it must have been built)."""
    if implementation is None:
        required = os.environ.get("FLOWSIM_REQUIRE_EXT") == "1"
        if required and os.environ.get("FLOWSIM_PURE_PYTHON") != "1":
            pytest.fail(f"FLOWSIM_REQUIRE_EXT=1 but flowsim._core.{module} is not importable")
        pytest.skip("the compiled core is not built (or FLOWSIM_PURE_PYTHON=1)")
    return implementation


@pytest.fixture(scope="session")
def small_config():
    """configs/small.yaml as shipped: the source of realistic config sections."""
    return load_config(CONFIGS / "small.yaml")


@pytest.fixture
def population(small_config):
    """10,000 people (the schema's smallest footprint), drawn from a fixed seed."""
    cfg = small_config.population.model_copy(update={"size": 10_000})
    return Population(cfg, np.random.default_rng(7))


@pytest.fixture
def pools(small_config):
    return Pools.from_config(small_config)


@pytest.fixture
def clock(pools):
    """A SimPy environment and the pure-Python core on the small footprint's pools."""
    return CoreClock(DayEnvironment(), PythonBoard(np.asarray(pools.capacities, dtype=np.int64)))


@pytest.fixture
def ledger(clock, population):
    return Ledger(clock, population)


def make_dashboard_results(out: Path) -> Path:
    """Results of two scenarios, the small footprint and its 10% acute bed cut, two short
    replications each (a few seconds): what the dashboard tests read."""
    from flowsim.cli import main

    short = ["--set", "population.size=20000", "--horizon-days", "10", "--warmup-days", "2"]
    for extra in ([], ["--set", "acute.beds_scale=0.9", "--set", "name=small_beds_cut"]):
        args = ["run", str(CONFIGS / "small.yaml"), *short, *extra, "--replications", "2", "--quiet"]
        assert main([*args, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def dashboard_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results folder of real short runs, shared by the dashboard's tests (do not change it:
    copy it first)."""
    return make_dashboard_results(tmp_path_factory.mktemp("dashboard") / "results")
