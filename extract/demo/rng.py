"""A tiny keyed random number generator: record ``i`` of a kind is a pure function of its key.

``random.Random`` costs ~8 µs just to seed, which dominates when every record gets its own
generator; splitmix64 seeds for free and is plenty random for demo data. ``hash_bits`` gives
128 bits from one BLAKE2b call, for records that need many small numbers at once. The
numbers for a key are the same on every platform and Python version.
"""

from __future__ import annotations

import bisect
import hashlib
import struct
from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_HASH_KEY = struct.Struct("<QQQ")


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _key(seed: int, stream: int, index: int) -> int:
    return _mix((seed * 0x100000001B3 + stream * 0xC2B2AE3D27D4EB4F + index) & _MASK)


def draws(seed: int, stream: int, index: int) -> Iterator[int]:
    """The numbers ``Rng(seed, stream, index).next64()`` returns, as an endless generator.

    For hot loops: ``draw = draws(...).__next__`` costs about half of an ``Rng`` method call
    per number (no attribute store, no second call for ``randint`` and friends).
    """
    state = _key(seed, stream, index)
    while True:
        state = (state + _GOLDEN) & _MASK
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        yield z ^ (z >> 31)


def hash_bits(seed: int, stream: int, index: int) -> int:
    """128 random bits keyed by ``(seed, stream, index)``, from one BLAKE2b call.

    Costs about one splitmix64 draw but holds twice the bits: a record that needs many
    small random numbers cuts them from this as mixed-radix digits (``divmod``).
    """
    key = _HASH_KEY.pack(seed & _MASK, stream & _MASK, index & _MASK)
    # Not a security use (FIPS-mode hosts refuse BLAKE2 unless told so).
    digest = hashlib.blake2b(key, digest_size=16, usedforsecurity=False).digest()
    return int.from_bytes(digest, "little")


def keyed_draw(seed: int, stream: int, index: int) -> int:
    """``Rng(seed, stream, index).next64()`` without making the generator: for records
    that need one number."""
    z = (_key(seed, stream, index) + _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def keyed_unit(seed: int, stream: int, index: int) -> float:
    """``Rng(seed, stream, index).random()`` without making the generator."""
    return (keyed_draw(seed, stream, index) >> 11) * (1.0 / (1 << 53))


def unit(value: int) -> float:
    """A 64-bit draw as a float in [0, 1), exactly as ``Rng.random`` makes it."""
    return (value >> 11) * (1.0 / (1 << 53))


class Rng:
    """splitmix64 keyed by ``(seed, stream, index)``; ``stream`` separates record kinds."""

    __slots__ = ("_state",)

    def __init__(self, seed: int, stream: int, index: int) -> None:
        self._state = _key(seed, stream, index)

    def next64(self) -> int:
        # _mix inlined: this is the hot loop of every generator.
        z = self._state = (self._state + _GOLDEN) & _MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        """A float in [0, 1)."""
        return (self.next64() >> 11) * (1.0 / (1 << 53))

    def randint(self, low: int, high: int) -> int:
        """An int in [low, high], both ends included."""
        return low + self.next64() % (high - low + 1)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def choice(self, items: Sequence[T]) -> T:
        return items[self.next64() % len(items)]

    def weighted(self, items: Sequence[T], cumulative: Sequence[float]) -> T:
        """Pick from ``items`` with cumulative weights ending at exactly 1.0 (``cumulative``
        makes them so): the first item whose bound exceeds a uniform draw."""
        return items[bisect.bisect_right(cumulative, self.random())]

    def distinct(self, high: int, k: int) -> list[int]:
        """``k`` distinct ints from [1, high] in draw order (k is small; k <= high)."""
        picked: list[int] = []
        while len(picked) < k:
            value = 1 + self.next64() % high
            if value not in picked:
                picked.append(value)
        return picked


def cumulative(weights: Sequence[float]) -> tuple[float, ...]:
    """Cumulative shares for ``Rng.weighted`` (weights need not sum to 1)."""
    total = float(sum(weights))
    running = 0.0
    bounds = []
    for w in weights:
        running += w
        bounds.append(running / total)
    bounds[-1] = 1.0  # a draw is below 1.0, so it always lands on an item
    return tuple(bounds)
