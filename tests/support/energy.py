"""A household whose energy figures are known by hand (see tests/unit/test_energy.py).

Europe/Paris, half-hourly load curve in Wh from 2024-01-01 to 2025-12-31:

* base load 250 W in 2024, 300 W in 2025 (125 / 150 Wh per half-hour);
* every day 19:00–21:00 local: +2500 W (+1250 Wh per half-hour, +5000 Wh a day);
* every day 23:00–24:00 local, the water heater: +2000 W (+1000 Wh per half-hour).

Each slot's local time is computed with ``datetime`` one by one, independently of the
vectorised code under test.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

TZ = "Europe/Paris"
PARIS = ZoneInfo(TZ)
METER: dict[str, Any] = {
    "kind": "electricity",
    "provider": "Enedis",
    "meter_id": "16218047329576",
    "unit": "Wh",
    "reading_type": "load_curve",
    "interval_s": 1800,
    "tariff": "HP/HC",
    "subscribed_power_kva": 9,
    "label": "Maison",
}


def household_readings(
    first_year: int = 2024, last_year: int = 2025
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    t = int(datetime(first_year, 1, 1, tzinfo=PARIS).timestamp())
    end = int(datetime(last_year + 1, 1, 1, tzinfo=PARIS).timestamp())
    ts, wh = [], []
    while t < end:
        local = datetime.fromtimestamp(t, PARIS)
        value = (250 if local.year == 2024 else 300) / 2
        if 19 <= local.hour < 21:
            value += 1250
        if local.hour == 23:
            value += 1000
        ts.append(t)
        wh.append(value)
        t += 1800
    return np.array(ts, dtype=np.int64), np.array(wh, dtype=np.float64)
