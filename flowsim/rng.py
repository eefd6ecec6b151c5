"""Named random streams from one root seed, so scenarios share common random numbers.

Every stream is derived from (root seed, replication, stream name[, day]): adding a stream
or consuming more of one shifts no other. Draws that belong to a person's episode are
*keyed* by (person, episode, draw slot) through a counter-based hash, so an intervention
that changes the order of events does not reshuffle anyone else's luck.
"""

from __future__ import annotations

import zlib

import numpy as np

_NORMAL_SLOTS = 1 << 20  # uniform slots from here on belong to normal()


def _name_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """The random streams of one replication of one run."""

    def __init__(self, seed: int, replication: int):
        self.seed = int(seed)
        self.replication = int(replication)
        self.seed_sequence = np.random.SeedSequence(self.seed, spawn_key=(self.replication,))

    @property
    def spawn_key(self) -> tuple[int, ...]:
        return tuple(self.seed_sequence.spawn_key)

    def generator(self, name: str, *index: int) -> np.random.Generator:
        """A fresh generator for stream `name` (and e.g. a day number), independent of use."""
        key = (self.replication, _name_key(name), *map(int, index))
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=key)))

    def keyed(self, name: str) -> KeyedUniforms:
        return KeyedUniforms(self.generator(name).integers(0, 2**63, dtype=np.uint64))


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection on 64 bits with full avalanche."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


class KeyedUniforms:
    """Uniforms on [0, 1) that are a pure function of (key, person, episode, slot)."""

    def __init__(self, key: np.uint64):
        self.key = np.uint64(key)

    def uniform(self, person: np.ndarray, episode: np.ndarray, slot: int) -> np.ndarray:
        if not 0 <= slot < _NORMAL_SLOTS * 2:
            raise ValueError(f"keyed draw slot {slot} out of range")
        with np.errstate(over="ignore"):
            person = np.asarray(person, dtype=np.uint64)
            episode = np.asarray(episode, dtype=np.uint64)
            z = _mix(self.key ^ (person * np.uint64(0x9E3779B97F4A7C15)))
            z = _mix(z ^ (episode * np.uint64(0xD1B54A32D192ED03)) ^ np.uint64(slot + 1))
            z = _mix(z + np.uint64(0x9E3779B97F4A7C15))
        return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)

    def normal(self, person: np.ndarray, episode: np.ndarray, slot: int) -> np.ndarray:
        """Standard normals by Box-Muller on two keyed uniforms of their own.

        Normal slots live in a range of uniform slots that `uniform()` callers never use,
        so normal slot s and uniform slot s are independent draws.
        """
        u1 = self.uniform(person, episode, _NORMAL_SLOTS + 2 * slot)
        u2 = self.uniform(person, episode, _NORMAL_SLOTS + 2 * slot + 1)
        return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def lognormal_from_normal(z: np.ndarray, mean: np.ndarray | float, cv: np.ndarray | float) -> np.ndarray:
    """A lognormal with the given mean and coefficient of variation, from standard normals.

    A coefficient of variation of 0 gives the mean itself.
    """
    cv = np.asarray(cv, dtype=np.float64)
    sigma2 = np.log1p(cv * cv)
    mu = np.log(mean) - 0.5 * sigma2
    return np.exp(mu + np.sqrt(sigma2) * np.asarray(z))
