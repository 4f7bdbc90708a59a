"""Mobility: recorded tracks and their GPS points, trips, and visits to places.

Modelled on GPX 1.1 (``trk``/``trkpt`` with ``lat``, ``lon``, ``ele``, ``time``) and on
Google Takeout's location history (``activitySegment`` → trip, ``placeVisit`` → visit).
Coordinates are WGS 84 decimal degrees; distances are metres.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator

from .fields import (
    DoctypeModel,
    Identifier,
    Label,
    Latitude,
    Longitude,
    Name,
    OptionalMeasure,
    check_not_before,
)
from .registry import Doctype

__all__ = [
    "DOCTYPES",
    "PLACE_VISIT",
    "POSITION",
    "TRACK",
    "TRIP",
    "PlaceVisit",
    "Position",
    "Track",
    "Trip",
]

NonNegative = Annotated[float, Field(ge=0.0)]

TripMode = Literal[
    "walk",
    "run",
    "bike",
    "scooter",
    "motorbike",
    "car",
    "bus",
    "tram",
    "metro",
    "train",
    "plane",
    "boat",
    "transit",
    "other",
]


def _ended_after_start(value: datetime | None, info: ValidationInfo) -> datetime | None:
    check_not_before(value, info.data.get("started_at"), "started_at")
    return value


class Track(DoctypeModel):
    """A recorded outing (a GPX track, a fitness app activity); its points are a series."""

    name: Label
    """The track's name, such as ``Footing du dimanche``."""
    activity: Literal["walk", "run", "bike", "car", "transit", "other"]
    """What the citizen was doing."""
    started_at: AwareDatetime
    """Time of the first point."""
    source: Name
    """The device or app that recorded it, such as ``Garmin Forerunner 255`` or ``Strava``."""
    ended_at: AwareDatetime | None = None
    """Time of the last point."""
    distance_m: NonNegative | None = None
    """Distance covered, in metres."""
    elevation_gain_m: NonNegative | None = None
    """Total climb, in metres."""
    track_id: Identifier | None = None
    """The source's id for the activity, when it has one."""

    _check_end = field_validator("ended_at")(_ended_after_start)


class Position(DoctypeModel):
    """One GPS point of a track: where, when, how high, how precise.

    ``ele`` and ``accuracy`` may be missing (``null``, absent or NaN in a series chunk).
    """

    time: AwareDatetime
    """When the point was recorded."""
    lat: Latitude
    """Latitude, WGS 84 decimal degrees (-90 to 90)."""
    lon: Longitude
    """Longitude, WGS 84 decimal degrees (-180 to 180)."""
    ele: OptionalMeasure = None
    """Elevation above sea level, in metres."""
    accuracy: OptionalMeasure = None
    """Horizontal accuracy radius, in metres (not negative)."""

    @field_validator("accuracy")
    @classmethod
    def _not_negative(cls, value: float | None) -> float | None:
        if value is not None and value < 0:
            raise ValueError("expected an accuracy of 0 metres or more")
        return value


class Trip(DoctypeModel):
    """A journey from one place to another with one mode of transport."""

    mode: TripMode
    """How the citizen travelled."""
    started_at: AwareDatetime
    """Departure time."""
    ended_at: AwareDatetime
    """Arrival time."""
    distance_m: NonNegative | None = None
    """Distance travelled, in metres."""
    start_name: Name | None = None
    """Name of the departure place."""
    start_lat: Latitude | None = None
    """Latitude of the departure."""
    start_lon: Longitude | None = None
    """Longitude of the departure."""
    end_name: Name | None = None
    """Name of the arrival place."""
    end_lat: Latitude | None = None
    """Latitude of the arrival."""
    end_lon: Longitude | None = None
    """Longitude of the arrival."""
    co2e_g: NonNegative | None = None
    """Estimated emissions, in grams of CO₂ equivalent."""
    source: Name | None = None
    """Where the trip comes from, such as ``Google Takeout`` or ``TCL``."""
    trip_id: Identifier | None = None
    """The source's id for the trip, when it has one."""

    _check_end = field_validator("ended_at")(_ended_after_start)


class PlaceVisit(DoctypeModel):
    """A stay at a place (Google Takeout ``placeVisit``)."""

    place_name: Name
    """The place's name, such as ``Boulangerie du Parc``."""
    lat: Latitude
    """Latitude of the place."""
    lon: Longitude
    """Longitude of the place."""
    started_at: AwareDatetime
    """Arrival."""
    ended_at: AwareDatetime
    """Departure."""
    address: Label | None = None
    """The place's address on one line."""
    place_id: Identifier | None = None
    """The source's place id (such as a Google place id)."""
    confidence: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    """How sure the source is of the place, from 0 to 1 (divide percentages by 100)."""
    source: Name | None = None
    """Where the visit comes from."""

    _check_end = field_validator("ended_at")(_ended_after_start)


# Words for people, per field: (French, English); test_doctype_labels wants them all.
TRACK_LABELS = {
    "name": ("Nom", "Name"),
    "activity": ("Activité", "Activity"),
    "started_at": ("Début", "Start"),
    "source": ("Appareil ou application", "Device or app"),
    "ended_at": ("Fin", "End"),
    "distance_m": ("Distance (m)", "Distance (m)"),
    "elevation_gain_m": ("Dénivelé positif (m)", "Elevation gain (m)"),
    "track_id": ("Identifiant de la source", "Source's id"),
}
POSITION_LABELS = {
    "time": ("Date et heure", "Date and time"),
    "lat": ("Latitude", "Latitude"),
    "lon": ("Longitude", "Longitude"),
    "ele": ("Altitude (m)", "Elevation (m)"),
    "accuracy": ("Précision (m)", "Accuracy (m)"),
}
TRIP_LABELS = {
    "mode": ("Moyen de transport", "Means of transport"),
    "started_at": ("Départ", "Departure"),
    "ended_at": ("Arrivée", "Arrival"),
    "distance_m": ("Distance (m)", "Distance (m)"),
    "start_name": ("Lieu de départ", "From"),
    "start_lat": ("Latitude du départ", "Departure latitude"),
    "start_lon": ("Longitude du départ", "Departure longitude"),
    "end_name": ("Lieu d'arrivée", "To"),
    "end_lat": ("Latitude de l'arrivée", "Arrival latitude"),
    "end_lon": ("Longitude de l'arrivée", "Arrival longitude"),
    "co2e_g": ("Émissions (g CO₂e)", "Emissions (g CO₂e)"),
    "source": ("Source", "Source"),
    "trip_id": ("Identifiant de la source", "Source's id"),
}
PLACE_VISIT_LABELS = {
    "place_name": ("Lieu", "Place"),
    "lat": ("Latitude", "Latitude"),
    "lon": ("Longitude", "Longitude"),
    "started_at": ("Arrivée", "Arrival"),
    "ended_at": ("Départ", "Departure"),
    "address": ("Adresse", "Address"),
    "place_id": ("Identifiant du lieu", "Place id"),
    "confidence": ("Confiance", "Confidence"),
    "source": ("Source", "Source"),
}


# Words for the coded values of some fields: (French, English).
_MOVES = {
    "walk": ("Marche", "Walking"),
    "run": ("Course", "Running"),
    "bike": ("Vélo", "Cycling"),
    "scooter": ("Trottinette", "Scooter"),
    "motorbike": ("Moto", "Motorbike"),
    "car": ("Voiture", "Car"),
    "bus": ("Bus", "Bus"),
    "tram": ("Tramway", "Tram"),
    "metro": ("Métro", "Metro"),
    "train": ("Train", "Train"),
    "plane": ("Avion", "Plane"),
    "boat": ("Bateau", "Boat"),
    "transit": ("Transports en commun", "Public transport"),
    "other": ("Autre", "Other"),
}
TRACK_CHOICES = {
    "activity": {k: _MOVES[k] for k in ("walk", "run", "bike", "car", "transit", "other")}
}
TRIP_CHOICES = {"mode": _MOVES}


TRACK = Doctype(
    name="mobility.track",
    summary=("name", "activity", "distance_m", "elevation_gain_m"),
    choices=TRACK_CHOICES,
    labels=TRACK_LABELS,
    version=1,
    kind="record",
    model=Track,
    category="mobility",
    title={"fr": "Trace GPS", "en": "GPS track"},
    description={
        "fr": "Une sortie enregistrée par un appareil ou une application (GPX).",
        "en": "An outing recorded by a device or an app (GPX).",
    },
    time_field="started_at",
    time_end_field="ended_at",
    natural_key=("source", "track_id"),
    fallback_key=("source", "started_at", "activity"),
)

POSITION = Doctype(
    name="mobility.position",
    labels=POSITION_LABELS,
    version=1,
    kind="series",
    model=Position,
    category="mobility",
    title={"fr": "Position GPS", "en": "GPS position"},
    description={
        "fr": "Les points d'une trace : latitude, longitude, altitude et précision.",
        "en": "The points of a track: latitude, longitude, elevation and accuracy.",
    },
    time_field="time",
    columns=("lat", "lon", "ele", "accuracy"),
    parent="mobility.track",
)

TRIP = Doctype(
    name="mobility.trip",
    summary=("mode", "start_name", "end_name", "distance_m", "co2e_g"),
    choices=TRIP_CHOICES,
    labels=TRIP_LABELS,
    version=1,
    kind="record",
    model=Trip,
    category="mobility",
    title={"fr": "Trajet", "en": "Trip"},
    description={
        "fr": "Un déplacement d'un lieu à un autre avec un mode de transport.",
        "en": "A journey from one place to another with one mode of transport.",
    },
    time_field="started_at",
    time_end_field="ended_at",
    natural_key=("source", "trip_id"),
    fallback_key=("started_at", "ended_at", "mode"),
)

PLACE_VISIT = Doctype(
    name="mobility.place_visit",
    summary=("place_name", "address", "ended_at"),
    labels=PLACE_VISIT_LABELS,
    version=1,
    kind="record",
    model=PlaceVisit,
    category="mobility",
    title={"fr": "Visite d'un lieu", "en": "Place visit"},
    description={
        "fr": "Un séjour dans un lieu, de l'arrivée au départ.",
        "en": "A stay at a place, from arrival to departure.",
    },
    time_field="started_at",
    time_end_field="ended_at",
    natural_key=("started_at", "place_id"),
    fallback_key=("started_at", "lat", "lon"),
)

DOCTYPES = (TRACK, POSITION, TRIP, PLACE_VISIT)
