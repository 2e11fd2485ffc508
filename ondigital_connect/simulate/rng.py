"""Counter-based hashing: splitmix64 draws addressed by (seed, stream, index), scalar and numpy."""

from __future__ import annotations

import numpy as np

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_STREAM = 0xD1B54A32D192ED03
U16 = 65536.0
INV53 = 2.0**-53


def mix64(z: int) -> int:
    """The splitmix64 finaliser of a 64-bit integer."""
    z = ((z ^ (z >> 30)) * _M1) & MASK
    z = ((z ^ (z >> 27)) * _M2) & MASK
    return z ^ (z >> 31)


def stream_key(seed: int, stream: int) -> int:
    """The key of one independent stream of draws for a seed."""
    return mix64((seed * GOLDEN + (stream + 1) * _STREAM) & MASK)


def draw(key: int, index: int) -> int:
    """The 64-bit draw number ``index`` of the stream ``key``."""
    return mix64((key + index * GOLDEN) & MASK)


def draw_np(key: int, index: np.ndarray) -> np.ndarray:
    """:func:`draw` for an array of indices (bit-identical), as uint64."""
    z = index.astype(np.uint64) * np.uint64(GOLDEN) + np.uint64(key)
    z ^= z >> np.uint64(30)
    z *= np.uint64(_M1)
    z ^= z >> np.uint64(27)
    z *= np.uint64(_M2)
    z ^= z >> np.uint64(31)
    return z


def field16(h: np.ndarray, k: int) -> np.ndarray:
    """The 16-bit field ``k`` (0-3) of uint64 draws, as int64 in [0, 65536)."""
    return ((h >> np.uint64(16 * k)) & np.uint64(0xFFFF)).astype(np.int64)


def unit_np(h: np.ndarray) -> np.ndarray:
    """Uniform floats in [0, 1) from the top 53 bits of uint64 draws."""
    return (h >> np.uint64(11)).astype(np.float64) * INV53


def unit(h: int) -> float:
    """Uniform float in [0, 1) from the top 53 bits of a 64-bit draw."""
    return (h >> 11) * INV53
