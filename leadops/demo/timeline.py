"""Time and chance helpers of the demo world. Times are whole epoch seconds (int) until rows are built."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

MINUTE = 60
HOUR = 3600
DAY = 86400

_WORKDAY_START = 8 * HOUR
_WORKDAY_END = 18 * HOUR
_MORNING = 9 * HOUR


def to_datetime(ts: int | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def poisson(rng: random.Random, mean: float) -> int:
    """Poisson draw (the standard library has none): Knuth for small means, a normal approximation above."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def lognormal_seconds(rng: random.Random, median_seconds: float, sigma: float) -> int:
    return int(median_seconds * math.exp(rng.gauss(0.0, sigma)))


def working_time(ts: int, utc_offset_hours: int) -> int:
    """The first moment at or after `ts` that falls in office hours (Mon-Fri 08:00-18:00 local).

    Work pushed out of hours lands at 09:xx on the next working morning, keeping its minutes so that a batch of
    pushed activities does not all start at the same second.
    """
    offset = utc_offset_hours * HOUR
    day, second = divmod(ts + offset, DAY)
    if second >= _WORKDAY_END:
        day, second = day + 1, _MORNING + second % HOUR
    elif second < _WORKDAY_START:
        second = _MORNING + second % HOUR
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0.
    if weekday >= 5:
        day += 7 - weekday
        second = _MORNING + second % HOUR
    return day * DAY + second - offset
