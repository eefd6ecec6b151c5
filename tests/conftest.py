"""Shared fixtures: small, hand-made pieces of the model's infrastructure for unit tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import simpy

from flowsim._core import PythonBoard
from flowsim.clock import CoreClock
from flowsim.config import load_config
from flowsim.ledger import Ledger
from flowsim.pools import Pools
from flowsim.population import Population

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


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
    return CoreClock(simpy.Environment(), PythonBoard(np.asarray(pools.capacities, dtype=np.int64)))


@pytest.fixture
def ledger(clock, population):
    return Ledger(clock, population)
