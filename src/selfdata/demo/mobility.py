"""Mobility: Camille's location history (trips and place visits) and recorded outings.

Each day is a sequence of *outings* that start and end at home: the commute to the
LyonTech-la Doua campus (bike in fair weather, else tram T1 or metro), the Sunday market,
a Wednesday afternoon at the park with Léa, appointments, trips away by train. Trips
and visits are what Google Takeout's location history would hold; the time at home
between two outings is a visit too. Weekend bike rides and walks are GPS tracks
(``mobility.track`` with a ``mobility.position`` series) as a Strava export would give.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from selfdata.access import SpaceView

from .life import HOME, PARIS, PLACES, WORK, Appointment, Life, Place

__all__ = ["Outing", "TrackData", "generate", "write"]

_SOURCE = "Google Takeout"
_TRACKER = "Strava"
# Approximate emission factors, g CO2e per passenger-km (ADEME Impact CO2).
_CO2E = {"walk": 0.0, "bike": 0.0, "tram": 4.3, "metro": 4.4, "train": 2.93}
Floats = npt.NDArray[np.float64]
_M_PER_DEG_LAT = 110_540.0
_M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(45.76))


@dataclass(frozen=True, slots=True)
class Leg:
    mode: str
    start: datetime
    end: datetime
    distance_m: float
    origin: Place
    destination: Place
    co2e_per_km: float | None = None


@dataclass(frozen=True, slots=True)
class Visit:
    place: Place
    start: datetime
    end: datetime
    confidence: float


@dataclass(slots=True)
class Outing:
    """Away from home from ``start`` to ``end``."""

    start: datetime
    end: datetime
    legs: list[Leg] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    track: TrackData | None = None


@dataclass(frozen=True, slots=True)
class TrackData:
    record: dict[str, Any]
    ts: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]  # lat, lon, ele, accuracy


_P = PLACES
# Waypoints (lat, lon) of the routes, following streets, quays and park paths.
_BIKE_ROUTES: dict[str, list[tuple[float, float]]] = {
    "Boucle berges du Rhône et parc de la Tête d'Or": [
        (45.7507, 4.8437),
        (45.7540, 4.8420),
        (45.7573, 4.8415),
        (45.7612, 4.8433),
        (45.7655, 4.8455),
        (45.7700, 4.8490),
        (45.7728, 4.8525),
        (45.7760, 4.8528),
        (45.7800, 4.8545),
        (45.7822, 4.8580),
        (45.7800, 4.8612),
        (45.7765, 4.8590),
        (45.7735, 4.8548),
        (45.7700, 4.8490),
        (45.7655, 4.8455),
        (45.7612, 4.8433),
        (45.7573, 4.8415),
        (45.7540, 4.8420),
        (45.7507, 4.8437),
    ],
    "Confluence et parc de Gerland": [
        (45.7507, 4.8437),
        (45.7478, 4.8440),
        (45.7415, 4.8415),
        (45.7345, 4.8330),
        (45.7300, 4.8300),
        (45.7330, 4.8235),
        (45.7365, 4.8195),
        (45.7400, 4.8180),
        (45.7440, 4.8200),
        (45.7486, 4.8264),
        (45.7525, 4.8330),
        (45.7520, 4.8390),
        (45.7507, 4.8437),
    ],
    "Quais de Saône jusqu'à Vaise": [
        (45.7507, 4.8437),
        (45.7573, 4.8415),
        (45.7578, 4.8320),
        (45.7598, 4.8280),
        (45.7660, 4.8270),
        (45.7730, 4.8250),
        (45.7790, 4.8180),
        (45.7745, 4.8060),
        (45.7790, 4.8180),
        (45.7730, 4.8250),
        (45.7660, 4.8270),
        (45.7598, 4.8280),
        (45.7578, 4.8320),
        (45.7573, 4.8415),
        (45.7507, 4.8437),
    ],
}
_WALK_ROUTES: dict[str, list[tuple[float, float]]] = {
    "Montée à Fourvière": [
        (45.7507, 4.8437),
        (45.7573, 4.8415),
        (45.7578, 4.8320),
        (45.7590, 4.8278),
        (45.7605, 4.8272),
        (45.7595, 4.8248),
        (45.7605, 4.8228),
        (45.7623, 4.8225),
        (45.7625, 4.8255),
        (45.7612, 4.8270),
        (45.7578, 4.8320),
        (45.7573, 4.8415),
        (45.7507, 4.8437),
    ],
    "Pentes de la Croix-Rousse": [
        (45.7507, 4.8437),
        (45.7573, 4.8415),
        (45.7620, 4.8360),
        (45.7675, 4.8340),
        (45.7700, 4.8325),
        (45.7730, 4.8320),
        (45.7745, 4.8305),
        (45.7752, 4.8370),
        (45.7700, 4.8360),
        (45.7675, 4.8340),
        (45.7620, 4.8360),
        (45.7573, 4.8415),
        (45.7507, 4.8437),
    ],
    "Balade au parc Blandan": [
        (45.7507, 4.8437),
        (45.7480, 4.8480),
        (45.7452, 4.8556),
        (45.7440, 4.8580),
        (45.7460, 4.8590),
        (45.7470, 4.8530),
        (45.7507, 4.8437),
    ],
}


def _elevation(lat: Floats, lon: Floats) -> Floats:
    """A rough relief of Lyon: the rivers at ~165 m, Fourvière ~285 m, Croix-Rousse ~250 m."""
    hill = ((lat - 45.7622) / 0.0018) ** 2 + ((lon - 4.8225) / 0.0022) ** 2
    fourviere = 118 * np.exp(-hill / 2)
    plateau = 1 / (1 + np.exp(-(lat - 45.7712) / 0.0011))
    croix_rousse = 84 * plateau * np.exp(-(((lon - 4.8340) / 0.008) ** 4))
    out: npt.NDArray[np.float64] = 166.0 + fourviere + croix_rousse
    return out


def _distance(a: Place, b: Place, detour: float) -> float:
    dx = (b.lon - a.lon) * _M_PER_DEG_LON
    dy = (b.lat - a.lat) * _M_PER_DEG_LAT
    return round(math.hypot(dx, dy) * detour)


def _leg(
    mode: str, start: datetime, a: Place, b: Place, kmh: float, detour: float, wait_min: float = 0.0
) -> Leg:
    metres = _distance(a, b, detour)
    minutes = metres / 1000 / kmh * 60 + wait_min
    end = start + timedelta(seconds=round(minutes * 60))
    return Leg(mode, start, end, float(metres), a, b, _CO2E.get(mode))


def _round_trip(
    r_mode: str,
    depart: datetime,
    place: Place,
    stay_min: float,
    kmh: float,
    detour: float,
    confidence: float,
    wait_min: float = 0.0,
) -> Outing:
    out = _leg(r_mode, depart, HOME, place, kmh, detour, wait_min)
    leave = out.end + timedelta(minutes=stay_min)
    back = _leg(r_mode, leave, place, HOME, kmh, detour, wait_min)
    return Outing(depart, back.end, [out, back], [Visit(place, out.end, leave, confidence)])


def _commute(
    life: Life, day: date, not_before: datetime | None, leave_by: datetime | None
) -> Outing:
    r = life.rng("commute", day)
    fair = life.rain_mm(day) < 1 and life.temperature(day) > 5
    if fair and r.random() < 0.75:
        mode, kmh, detour, wait = "bike", r.uniform(14.5, 17.5), 1.25, 0.0
    elif r.random() < 0.8:
        mode, kmh, detour, wait = "tram", r.uniform(14, 16), 1.35, r.uniform(3, 8)
    else:
        mode, kmh, detour, wait = "metro", r.uniform(19, 22), 1.45, r.uniform(6, 11)
    depart = Life.at(day, 8, r.randrange(0, 35), r.randrange(0, 60))
    if not_before is not None and depart < not_before:
        depart = not_before
    there = _leg(mode, depart, HOME, WORK, kmh, detour, wait)
    if day.weekday() == 4:
        leave = Life.at(day, 16, r.randrange(15, 50), r.randrange(0, 60))
    else:
        leave = Life.at(day, 17, r.randrange(5, 59), r.randrange(0, 60))
    if leave_by is not None:
        leave = min(leave, leave_by)
    back = _leg(mode, leave, WORK, HOME, kmh * r.uniform(0.93, 1.02), detour, wait)
    work = Visit(WORK, there.end, leave, round(r.uniform(0.88, 0.99), 2))
    return Outing(depart, back.end, [there, back], [work])


def _track(
    life: Life,
    day: date,
    name: str,
    route: Sequence[tuple[float, float]],
    activity: str,
    start: datetime,
) -> TrackData:
    rng = life.np_rng("track", day)
    pts = np.array(route, dtype=np.float64)
    xy = np.column_stack(
        ((pts[:, 1] - pts[0, 1]) * _M_PER_DEG_LON, (pts[:, 0] - pts[0, 0]) * _M_PER_DEG_LAT)
    )
    cum = np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))))
    total = float(cum[-1])
    bike = activity == "bike"
    step_s = 5 if bike else 10
    cruise = rng.uniform(16.0, 19.5) / 3.6 if bike else rng.uniform(4.5, 5.3) / 3.6
    # Walk the route: speed follows the slope, with breathing noise and (bike) red lights.
    s_list: list[float] = [0.0]
    s, wobble, stopped = 0.0, 0.0, 0
    while s < total:
        lat = np.interp([s, min(total, s + 15)], cum, pts[:, 0])
        lon = np.interp([s, min(total, s + 15)], cum, pts[:, 1])
        ele = _elevation(lat, lon)
        grade = float(ele[1] - ele[0]) / 15
        wobble = 0.8 * wobble + 0.2 * float(rng.normal(0, 0.25))
        factor = max(0.3, 1 - (6.0 if bike else 3.0) * max(grade, -0.05)) * (1 + wobble)
        if bike and stopped == 0 and rng.random() < 0.012:
            stopped = int(rng.integers(3, 10))
        if stopped:
            stopped -= 1
            factor = 0.0
        s = min(total, s + cruise * factor * step_s)
        s_list.append(s)
    travelled = np.array(s_list)
    n = travelled.shape[0]
    t0 = int(start.timestamp())
    ts = t0 + step_s * np.arange(n, dtype=np.int64)
    lat = np.interp(travelled, cum, pts[:, 0])
    lon = np.interp(travelled, cum, pts[:, 1])
    clean_ele = _elevation(lat, lon)
    jitter = rng.normal(0, 3.0, (n, 2))
    lat_noisy = np.round(lat + jitter[:, 0] / _M_PER_DEG_LAT, 6)
    lon_noisy = np.round(lon + jitter[:, 1] / _M_PER_DEG_LON, 6)
    ele = np.round(clean_ele + rng.normal(0, 1.5, n), 1)
    ele[: int(rng.integers(2, 7))] = np.nan  # no altitude before the fix settles
    ele[rng.random(n) < 0.02] = np.nan
    accuracy = np.round(3.0 + np.abs(rng.normal(0, 1.8, n)), 1)
    gain = float(np.clip(np.diff(clean_ele), 0, None).sum())
    end = datetime.fromtimestamp(int(ts[-1]), PARIS)
    record = {
        "name": name,
        "activity": activity,
        "started_at": start.isoformat(),
        "source": _TRACKER,
        "ended_at": end.isoformat(),
        "distance_m": round(total, 1),
        "elevation_gain_m": round(gain, 1),
        "track_id": str(int(rng.integers(10**10, 10**11))),
    }
    values = np.column_stack((lat_noisy, lon_noisy, ele, accuracy))
    return TrackData(record, ts, values)


def _appointment(r: random.Random, visit: Appointment) -> Outing:
    far = visit.kind == "dentist"  # the others are a walk away
    depart = visit.start - timedelta(minutes=22 if far else 10)
    return _round_trip(
        "tram" if far else "walk",
        depart,
        visit.place,
        visit.minutes + r.uniform(5, 20),
        14 if far else 4.8,
        1.3,
        round(r.uniform(0.85, 0.98), 2),
        4 if far else 0,
    )


def _day(life: Life, day: date) -> list[Outing]:
    """The outings of one day in Lyon (not on the days of a trip away)."""
    r = life.rng("mobility", day)
    out: list[Outing] = []
    visits = [a for a in life.appointments(day.year) if a.start.date() == day]
    morning = [_appointment(r, a) for a in visits if a.start.hour < 12]
    evening = [_appointment(r, a) for a in visits if a.start.hour >= 12]
    out += morning
    if life.works(day):
        not_before = morning[-1].end + timedelta(minutes=10) if morning else None
        leave_by = evening[0].start - timedelta(minutes=60) if evening else None
        out.append(_commute(life, day, not_before, leave_by))
        return out + evening
    fair = life.rain_mm(day) < 1 and life.temperature(day) > 8
    weekend = day.weekday() >= 5 or life.is_public_holiday(day)
    if day.weekday() == 6 and r.random() < 0.55:
        out.append(
            _round_trip(
                "walk",
                Life.at(day, 9, r.randrange(10, 50)),
                _P["market"],
                r.uniform(50, 95),
                4.7,
                1.25,
                round(r.uniform(0.7, 0.95), 2),
            )
        )
    elif day.weekday() == 5 and r.random() < 0.2:
        out.append(
            _round_trip(
                "tram",
                Life.at(day, 10, r.randrange(0, 40)),
                _P["halles"],
                r.uniform(40, 80),
                13,
                1.3,
                round(r.uniform(0.75, 0.97), 2),
                r.uniform(3, 7),
            )
        )
    elif weekend and fair and r.random() < 0.3:
        name = r.choice(sorted(_BIKE_ROUTES))
        start = Life.at(day, 9, r.randrange(30, 59), r.randrange(0, 60))
        track = _track(life, day, name, _BIKE_ROUTES[name], "bike", start)
        out.append(Outing(start, datetime.fromisoformat(track.record["ended_at"]), track=track))
    if not weekend and fair and r.random() < 0.6:  # Wednesday afternoon with Léa
        place = _P["pool"] if life.temperature(day) < 14 else _P["blandan"]
        out.append(
            _round_trip(
                "walk",
                Life.at(day, 14, r.randrange(0, 30)),
                place,
                r.uniform(80, 140),
                4.2,
                1.3,
                round(r.uniform(0.7, 0.95), 2),
            )
        )
    elif weekend and fair and r.random() < 0.35:
        out.append(
            _round_trip(
                r.choice(("tram", "bike")),
                Life.at(day, 15, r.randrange(0, 40)),
                _P["tete_dor"],
                r.uniform(90, 170),
                14,
                1.3,
                round(r.uniform(0.8, 0.98), 2),
                2,
            )
        )
    elif weekend and life.rain_mm(day) < 1 and r.random() < 0.15:
        name = r.choice(sorted(_WALK_ROUTES))
        start = Life.at(day, 15, r.randrange(0, 50), r.randrange(0, 60))
        track = _track(life, day, name, _WALK_ROUTES[name], "walk", start)
        out.append(Outing(start, datetime.fromisoformat(track.record["ended_at"]), track=track))
    return out + evening


def _away(life: Life, first: date, last: date) -> list[Outing]:
    out = []
    station = _P["part_dieu"]
    for trip in life.trips_between(first, last):
        there = Place(
            trip.station,
            trip.lat,
            trip.lon,
            trip.destination,
            f"demo-station-{trip.destination.lower()}",
        )
        ride = timedelta(minutes=round(trip.rail_km / 2.6))
        to_station = _leg("tram", trip.depart - timedelta(minutes=38), HOME, station, 14, 1.3, 5)
        train = Leg(
            "train",
            trip.depart,
            trip.depart + ride,
            trip.rail_km * 1000,
            station,
            there,
            trip.co2e_g_per_km,
        )
        back_train = Leg(
            "train",
            trip.back - ride,
            trip.back,
            trip.rail_km * 1000,
            there,
            station,
            trip.co2e_g_per_km,
        )
        home = _leg("tram", trip.back + timedelta(minutes=6), station, HOME, 14, 1.3, 5)
        out.append(Outing(to_station.start, home.end, [to_station, train, back_train, home]))
    return out


def _outings(life: Life, first: date, last: date) -> list[Outing]:
    trips = _away(life, first, last)
    busy = {
        d for t in life.trips_between(first, last) for d in life.days(t.first_day(), t.last_day())
    }
    outings = list(trips)
    for day in life.days(first, last):
        if day not in busy:
            outings += _day(life, day)
    outings.sort(key=lambda o: o.start)
    kept: list[Outing] = []
    for outing in outings:  # never two places at once
        if not kept or outing.start >= kept[-1].end + timedelta(minutes=5):
            kept.append(outing)
    return kept


def generate(life: Life) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[TrackData]]:
    """(trips, place visits, tracks) whose start falls in the window."""
    outings = _outings(life, life.start - timedelta(days=10), life.end + timedelta(days=20))
    trips: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    tracks: list[TrackData] = []
    previous: Outing | None = None
    for outing in outings:
        if previous is not None and life.in_window(previous.end):
            visits.append(_visit(Visit(HOME, previous.end, outing.start, 0.97)))
        previous = outing
        if not life.in_window(outing.start):
            continue
        trips += [_trip(leg) for leg in outing.legs]
        visits += [_visit(v) for v in outing.visits]
        if outing.track is not None:
            tracks.append(outing.track)
    trips.sort(key=lambda t: t["started_at"])
    visits.sort(key=lambda v: v["started_at"])
    return trips, visits, tracks


def _trip(leg: Leg) -> dict[str, Any]:
    item: dict[str, Any] = {
        "mode": leg.mode,
        "started_at": leg.start.isoformat(),
        "ended_at": leg.end.isoformat(),
        "distance_m": leg.distance_m,
        "start_name": leg.origin.name,
        "start_lat": leg.origin.lat,
        "start_lon": leg.origin.lon,
        "end_name": leg.destination.name,
        "end_lat": leg.destination.lat,
        "end_lon": leg.destination.lon,
        "source": _SOURCE,
    }
    if leg.co2e_per_km is not None:
        item["co2e_g"] = round(leg.distance_m / 1000 * leg.co2e_per_km, 1)
    return item


def _visit(visit: Visit) -> dict[str, Any]:
    return {
        "place_name": visit.place.name,
        "lat": visit.place.lat,
        "lon": visit.place.lon,
        "started_at": visit.start.isoformat(),
        "ended_at": visit.end.isoformat(),
        "address": visit.place.address,
        "place_id": visit.place.place_id,
        "confidence": visit.confidence,
        "source": _SOURCE,
    }


def write(
    view: SpaceView,
    trips: list[dict[str, Any]],
    visits: list[dict[str, Any]],
    tracks: list[TrackData],
    tick: Callable[[], None],
) -> tuple[dict[str, int], dict[str, int]]:
    counts: dict[str, int] = {}
    new: dict[str, int] = {}
    for doctype, items in (("mobility.trip", trips), ("mobility.place_visit", visits)):
        if items:
            report = view.put_records(doctype, items)
            counts[doctype], new[doctype] = report.total, report.created + report.updated
        tick()
    if tracks:
        report = view.put_records("mobility.track", [t.record for t in tracks])
        counts["mobility.track"] = report.total
        new["mobility.track"] = report.created + report.updated
        existing = {s.record_id: s.id for s in view.streams("mobility.position")}
        points = gained = 0
        for record_id, track in zip(report.ids, tracks, strict=True):
            stream_id = existing.get(record_id)
            if stream_id is None:
                meta = {"source": _TRACKER, "interval_s": int(track.ts[1] - track.ts[0])}
                stream_id = view.create_stream(
                    "mobility.position", record_id=record_id, meta=meta
                ).id
            gained += view.append_points(stream_id, track.ts, track.values)
            points += int(track.ts.shape[0])
        counts["mobility.position"], new["mobility.position"] = points, gained
    tick()
    return counts, new
