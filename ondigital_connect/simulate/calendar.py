"""The daily volume curve (weekday, season, growth) and the evening-heavy spread within a day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np

from ondigital_connect.simulate.rng import draw_np, stream_key, unit_np

# Monday .. Sunday: Sunday and Monday busiest, Saturday quietest.
WEEKDAY_FACTORS = (1.15, 1.0, 0.98, 0.96, 0.88, 0.74, 1.2)
# Local hour of day 0..23: low at night, a lunch bump, the peak in the evening.
HOUR_WEIGHTS = (
    1.2, 0.6, 0.35, 0.25, 0.25, 0.35, 0.8, 1.4, 2.0, 2.6, 3.0, 3.2,
    3.6, 3.4, 3.3, 3.3, 3.4, 3.6, 4.0, 4.8, 5.6, 5.8, 4.6, 2.6,
)
EVENING_BOOST = 1.35  # extra weight of 19-22h on Sundays and Mondays
ANNUAL_GROWTH = 1.25
# Days relative to Black Friday -> factor (Black Week, Black Friday, Cyber Monday).
BLACK_WEEK = {-7: 1.2, -6: 1.25, -5: 1.3, -4: 1.35, -3: 1.45, -2: 1.55, -1: 1.8, 0: 3.4,
              1: 2.3, 2: 2.1, 3: 2.6, 4: 1.3}
_STREAM_DAY_NOISE = 101
_STREAM_TIME_OF_DAY = 102


def black_friday(year: int) -> dt.date:
    """The day after the fourth Thursday of November."""
    first = dt.date(year, 11, 1)
    first_thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + dt.timedelta(days=22)


def season_factor(day: dt.date) -> float:
    """Seasonality of one day: Black Week and December peaks, a summer dip, quiet February."""
    offset = (day - black_friday(day.year)).days
    if offset in BLACK_WEEK:
        return BLACK_WEEK[offset]
    month, dom = day.month, day.day
    if month == 11:
        return 0.85  # people wait for Black Week
    if month == 12:
        if dom <= 20:
            return 1.45
        if dom <= 23:
            return 1.1
        return 0.55 if dom <= 26 else 1.25  # Christmas, then the mellandagsrea
    if month == 1:
        return 1.1 if dom <= 12 else 0.85
    if month == 2:
        return 0.88
    if (month == 6 and dom >= 20) or month == 7 or (month == 8 and dom <= 10):
        return 0.72
    return 1.0


def day_weights(start: dt.date, end: dt.date, seed: int) -> np.ndarray:
    """Expected relative volume of each day in [start, end]: weekday x season x growth x noise."""
    n_days = (end - start).days + 1
    days = [start + dt.timedelta(days=k) for k in range(n_days)]
    weekday = np.array([WEEKDAY_FACTORS[d.weekday()] for d in days])
    season = np.array([season_factor(d) for d in days])
    growth = ANNUAL_GROWTH ** (np.arange(n_days) / 365.0)
    ordinals = np.array([d.toordinal() for d in days], dtype=np.int64)
    noise = 0.92 + 0.16 * unit_np(draw_np(stream_key(seed, _STREAM_DAY_NOISE), ordinals))
    return weekday * season * growth * noise


def daily_counts(weights: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` orders over the days in proportion to ``weights`` (sums exactly)."""
    cumulative = np.floor(np.cumsum(weights) / weights.sum() * total + 1e-9).astype(np.int64)
    cumulative[-1] = total
    return np.diff(cumulative, prepend=0)


def day_starts_utc(start: dt.date, end: dt.date, timezone: str) -> np.ndarray:
    """UTC epoch seconds of local midnight of each day in [start, end + 1] (DST-aware)."""
    zone = ZoneInfo(timezone)
    n = (end - start).days + 2
    return np.array(
        [int(dt.datetime.combine(start + dt.timedelta(days=k), dt.time(), zone).timestamp())
         for k in range(n)],
        dtype=np.int64,
    )


def _hour_cdfs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative hour curves (and hour weights) for ordinary days and Sunday/Monday."""
    plain = np.array(HOUR_WEIGHTS)
    boosted = plain.copy()
    boosted[19:23] *= EVENING_BOOST
    plain, boosted = plain / plain.sum(), boosted / boosted.sum()
    return (np.concatenate(([0.0], np.cumsum(plain))), plain,
            np.concatenate(([0.0], np.cumsum(boosted))), boosted)


def _day_fraction(u: np.ndarray, cdf: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Invert the piecewise-constant hour density: uniform draws -> fraction of the day."""
    hour = np.clip(np.searchsorted(cdf, u, side="right") - 1, 0, 23)
    within = (u - cdf[hour]) / weights[hour]
    return np.clip((hour + within) / 24.0, 0.0, 1.0 - 1e-12)


def created_seconds(counts: np.ndarray, starts: np.ndarray, start: dt.date,
                    seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Creation times (UTC epoch seconds, non-decreasing) and local day index of every order."""
    n_days = len(counts)
    day = np.repeat(np.arange(n_days, dtype=np.int64), counts)
    u = unit_np(draw_np(stream_key(seed, _STREAM_TIME_OF_DAY), np.arange(len(day))))
    first_weekday = start.weekday()
    weekday = (day + first_weekday) % 7
    cdf, weights, cdf_boost, weights_boost = _hour_cdfs()
    frac = _day_fraction(u, cdf, weights)
    boosted = (weekday == 0) | (weekday == 6)
    frac[boosted] = _day_fraction(u[boosted], cdf_boost, weights_boost)
    length = np.diff(starts)
    seconds = starts[day] + np.floor(frac * length[day]).astype(np.int64)
    seconds.sort()
    return seconds, day.astype(np.int16)
