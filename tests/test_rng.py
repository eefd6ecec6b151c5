"""Random streams: reproducible, independent of each other, keyed where they must be."""

from __future__ import annotations

import numpy as np
import pytest

from flowsim.rng import Streams, lognormal_from_normal
from tests.conftest import compiled

pytestmark = pytest.mark.unit


def test_a_stream_does_not_depend_on_other_streams_being_used():
    a = Streams(7, 0)
    b = Streams(7, 0)
    b.generator("something else").random(1000)
    assert np.array_equal(a.generator("demand", 3).random(5), b.generator("demand", 3).random(5))


def test_replications_and_days_get_different_numbers():
    s0, s1 = Streams(7, 0), Streams(7, 1)
    assert not np.array_equal(s0.generator("demand", 3).random(5), s1.generator("demand", 3).random(5))
    assert not np.array_equal(s0.generator("demand", 3).random(5), s0.generator("demand", 4).random(5))


def test_keyed_draws_are_a_function_of_person_episode_and_slot():
    keyed = Streams(7, 0).keyed("episode")
    person = np.arange(10_000)
    episode = np.full(10_000, 2)
    u = keyed.uniform(person, episode, 5)
    assert np.array_equal(u, keyed.uniform(person, episode, 5))
    # Order of the people does not matter: each person's luck is their own.
    order = np.random.default_rng(0).permutation(10_000)
    assert np.array_equal(u[order], keyed.uniform(person[order], episode[order], 5))
    assert 0.0 <= u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01


def test_keyed_slots_and_normals_are_independent():
    keyed = Streams(7, 0).keyed("episode")
    person = np.arange(50_000)
    episode = np.zeros(50_000, dtype=np.int64)
    for slot in range(6):
        z = keyed.normal(person, episode, slot)
        assert abs(z.mean()) < 0.02 and abs(z.std() - 1.0) < 0.02
        for other in range(2 * slot, 2 * slot + 2):
            assert abs(np.corrcoef(z, keyed.uniform(person, episode, other))[0, 1]) < 0.02
    assert abs(np.corrcoef(keyed.uniform(person, episode, 0), keyed.uniform(person, episode, 1))[0, 1]) < 0.02


def test_lognormal_has_the_mean_and_cv_asked_for():
    z = np.random.default_rng(1).standard_normal(400_000)
    x = lognormal_from_normal(z, 5.0, 0.8)
    assert x.mean() == pytest.approx(5.0, rel=0.01)
    assert x.std() / x.mean() == pytest.approx(0.8, rel=0.02)
    assert np.allclose(lognormal_from_normal(z[:5], 3.0, 0.0), 3.0)


def test_keyed_draws_are_the_same_for_one_person_or_many_and_never_warn():
    """A draw depends on (key, person, episode, slot) only: the same for a person drawn
    alone, with others, or against a scalar episode; uint64 arithmetic wraps silently."""
    import warnings

    keyed = Streams(7, 3).keyed("episode")
    people = np.array([0, 1, 2**62, 2**63 - 1], dtype=np.int64)
    episodes = np.array([0, 5, 9, 3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        together = keyed.uniform(people, episodes, 77)
        alone = [float(keyed.uniform(int(p), int(e), 77)) for p, e in zip(people, episodes)]
        against_scalar = keyed.uniform(people, 5, 77)
        normals = keyed.normal(people, episodes, 4)
    assert together.tolist() == alone
    assert against_scalar[1] == together[1]
    assert ((together >= 0) & (together < 1)).all() and np.isfinite(normals).all()


@pytest.mark.core
def test_the_compiled_keyed_draws_match_numpys_bit_for_bit():
    """flowsim/_core/keyed.pyx against the numpy hash it replaces, on ids and episodes
    across the whole 64-bit range, one episode for everyone, and nobody."""
    from flowsim._core import compiled_keyed_uniform
    from flowsim.rng import keyed_uniform

    keyed = compiled(compiled_keyed_uniform, "keyed")
    rng = np.random.default_rng(11)
    key = np.uint64(rng.integers(0, 2**63, dtype=np.uint64))
    for n in (0, 1, 5, 10_000):
        person = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
        episode = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
        for slot in (0, 7, 2**21 - 1):
            expected = keyed_uniform(person, episode, key, slot)
            assert keyed(person, episode, key, slot).tobytes() == expected.tobytes()
            one = np.array([episode[0] if n else 3], dtype=np.uint64)
            expected = keyed_uniform(person, one[0], key, slot)
            assert keyed(person, one, key, slot).tobytes() == expected.tobytes()
    with pytest.raises(ValueError, match="length of person"):
        keyed(np.zeros(3, np.uint64), np.zeros(2, np.uint64), key, 0)
