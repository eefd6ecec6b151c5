"""Named random streams from one root seed, so scenarios share common random numbers.

Every stream is derived from (root seed, replication, stream name[, day]): adding a stream
or consuming more of one shifts no other. Draws that belong to a person's episode are
*keyed* by (person, episode, draw slot) through a counter-based hash, so an intervention
that changes the order of events does not reshuffle anyone else's luck.
"""

from __future__ import annotations

import zlib

import numpy as np

from flowsim._core import compiled_keyed_uniform

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


# The constants as numpy scalars once, not on every call: keyed draws are made hundreds of
# times a day, mostly of a few hundred values, where numpy's fixed cost per operation is
# most of the work.
_SHIFT_30, _SHIFT_27, _SHIFT_31, _SHIFT_11 = (np.uint64(n) for n in (30, 27, 31, 11))
_MIX_1, _MIX_2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_GOLDEN_GAMMA, _EPISODE_GAMMA = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xD1B54A32D192ED03)


def _mix(z: np.ndarray, scratch: np.ndarray) -> None:
    """SplitMix64's finaliser, in place: a bijection on 64 bits with full avalanche.

    `z` and `scratch` are arrays of the same shape (uint64 arithmetic wraps, as meant).
    """
    np.right_shift(z, _SHIFT_30, out=scratch)
    z ^= scratch
    z *= _MIX_1
    np.right_shift(z, _SHIFT_27, out=scratch)
    z ^= scratch
    z *= _MIX_2
    np.right_shift(z, _SHIFT_31, out=scratch)
    z ^= scratch


def keyed_uniform(person: np.ndarray, episode: np.ndarray, key: np.uint64, slot: int) -> np.ndarray:
    """The keyed hash in numpy (uint64 arrays of any broadcastable shapes): the readable
    twin of flowsim/_core/keyed.pyx, and what runs for other shapes or without it."""
    # Arrays throughout (a 0-d one for a single draw), so the arithmetic wraps silently.
    z = np.empty(np.broadcast_shapes(person.shape, episode.shape), dtype=np.uint64)
    scratch = np.empty_like(z)
    np.multiply(person, _GOLDEN_GAMMA, out=z)
    z ^= key
    _mix(z, scratch)
    np.multiply(episode, _EPISODE_GAMMA, out=scratch)
    z ^= scratch
    z ^= np.uint64(slot + 1)
    _mix(z, scratch)
    z += _GOLDEN_GAMMA
    _mix(z, scratch)
    z >>= _SHIFT_11
    return z.astype(np.float64) * (1.0 / 9007199254740992.0)


class KeyedUniforms:
    """Uniforms on [0, 1) that are a pure function of (key, person, episode, slot)."""

    def __init__(self, key: np.uint64):
        self.key = np.uint64(key)

    def uniform(self, person: np.ndarray, episode: np.ndarray, slot: int) -> np.ndarray:
        if not 0 <= slot < _NORMAL_SLOTS * 2:
            raise ValueError(f"keyed draw slot {slot} out of range")
        person = np.asarray(person, dtype=np.uint64)
        episode = np.asarray(episode, dtype=np.uint64)
        if compiled_keyed_uniform is not None and person.ndim == 1 and episode.shape in (person.shape, ()):
            # The same draws in one pass of C (flowsim/_core/keyed.pyx), bit for bit.
            return compiled_keyed_uniform(
                np.ascontiguousarray(person), np.ascontiguousarray(episode).reshape(-1), self.key, slot
            )
        return keyed_uniform(person, episode, self.key, slot)

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
