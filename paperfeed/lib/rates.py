"""Rate limits written the way people say them: ``30/hour``, ``5/minute``, ``1000/day``."""

from __future__ import annotations

from dataclasses import dataclass

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int

    def __str__(self) -> str:
        name = next(n for n, s in _PERIODS.items() if s == self.seconds)
        return f"{self.limit}/{name}"


def parse_rate(text: str) -> Rate:
    """``"30/hour"`` -> ``Rate(30, 3600)``; raises ValueError with a readable message."""
    count, sep, period = text.strip().partition("/")
    period = period.strip().lower().removesuffix("s")
    if not sep or period not in _PERIODS:
        raise ValueError(f"expected N/second, N/minute, N/hour or N/day, got {text!r}")
    try:
        limit = int(count)
    except ValueError:
        raise ValueError(f"the count in {text!r} is not a whole number") from None
    if limit < 0:
        raise ValueError(f"the count in {text!r} must not be negative")
    return Rate(limit, _PERIODS[period])


def window_start(timestamp: float, rate: Rate) -> int:
    """Start of the fixed window holding ``timestamp`` (seconds since the epoch)."""
    return int(timestamp) - int(timestamp) % rate.seconds
