# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False, overflowcheck=False, infer_types=False
# distutils: language = c++
"""Keyed uniforms in one pass of C: the compiled twin of `flowsim.rng.KeyedUniforms.uniform`.

The model makes seventy-odd keyed draws a day, most of a few hundred values, where
numpy's fixed cost on each of the hash's twenty operations is most of the work. The
arithmetic is the same 64-bit integer arithmetic (wrapping, as meant) and the same exact
conversion to a float, so the two agree bit for bit.
"""

from libc.stdint cimport uint64_t

import numpy as np

cdef uint64_t GOLDEN_GAMMA = 0x9E3779B97F4A7C15ULL
cdef uint64_t EPISODE_GAMMA = 0xD1B54A32D192ED03ULL


cdef inline uint64_t mix(uint64_t z) noexcept nogil:
    """SplitMix64's finaliser."""
    z ^= z >> 30
    z *= 0xBF58476D1CE4E5B9ULL
    z ^= z >> 27
    z *= 0x94D049BB133111EBULL
    z ^= z >> 31
    return z


def keyed_uniform(const uint64_t[::1] person, const uint64_t[::1] episode, uint64_t key, uint64_t slot):
    """Uniforms on [0, 1) for each (person, episode) pair; `episode` has the length of
    `person`, or length 1 for one episode for everyone."""
    cdef Py_ssize_t n = person.shape[0]
    cdef Py_ssize_t step = 1
    if episode.shape[0] != n:
        if episode.shape[0] != 1:
            raise ValueError("episode needs the length of person, or length 1")
        step = 0
    out = np.empty(n, dtype=np.float64)
    cdef double[::1] o = out
    cdef Py_ssize_t i
    cdef uint64_t z
    with nogil:
        for i in range(n):
            z = mix((person[i] * GOLDEN_GAMMA) ^ key)
            z ^= episode[i * step] * EPISODE_GAMMA
            z ^= slot + 1
            z = mix(z)
            z += GOLDEN_GAMMA
            z = mix(z)
            o[i] = <double>(z >> 11) * (1.0 / 9007199254740992.0)
    return out
