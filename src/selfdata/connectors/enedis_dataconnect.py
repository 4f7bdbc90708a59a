"""Enedis Data Connect: a Linky meter's consumption, with the citizen's consent.

The public API of Enedis (the French electricity distribution network) for third
parties the citizen authorises (https://datahub-enedis.fr/data-connect/):

* **consent** at ``{authorize}/dataconnect/v1/oauth2/authorize?client_id&
  response_type=code&state&duration=P1Y`` on the citizen's Enedis account; Enedis
  redirects to the redirect URI registered for the client with ``code``, ``state``
  and ``usage_point_id`` (the PRM, 14 digits). No PKCE.
* **tokens** at ``{api}/oauth2/v3/token`` (form-encoded, client id and secret in the
  body): ``authorization_code`` gives an access token (3.5 h) and a refresh token;
  ``refresh_token`` renews them; an ``invalid_grant`` means the consent is gone.
* **data**, ``Authorization: Bearer``, ``usage_point_id``, ``start`` and ``end``
  (dates, end excluded, data up to yesterday):
  ``/metering_data_dc/v5/daily_consumption`` (Wh per day, at most 365 days a call)
  and ``/metering_data_clc/v5/consumption_load_curve`` (average W per 30 min, at
  most 7 days a call), answering ``meter_reading.interval_reading[{value, date,
  interval_length}]``. Load-curve dates are French local times of the **end** of
  each interval, as in the customer-area files. Errors: 400 ``ADAM-ERR…`` (bad
  request), 403 (no consent for this usage point), 404 (no data for the period),
  429 (rate limit, ``Retry-After``), 5xx.

It writes what the file importers of ``importers/enedis.py`` write — one
``energy.meter`` per reading type (provider ``Enedis``, the PRM, ``load_curve`` or
``daily_consumption``) and its ``energy.reading`` series, with the same time
conventions — so a file import and a sync of the same meter merge into one series.

The cursor is ``{"daily_consumption": "YYYY-MM-DD", "load_curve": "YYYY-MM-DD"}``:
the first day not fetched yet. The first sync goes back ``history_days`` (daily,
default 365) and ``load_curve_history_days`` (default 7) days.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import numpy as np

from selfdata.connectors.base import (
    Connector,
    Grant,
    ProviderRefused,
    ProviderUnavailable,
    ReauthorizationNeeded,
    SyncAccount,
    SyncBatch,
    Tokens,
)
from selfdata.connectors.http import RateLimited, Unreachable
from selfdata.importers.base import RecordBatch, RecordRow, SeriesChunk
from selfdata.importers.text import LocalTimes

__all__ = ["EnedisDataConnect"]

_PARIS = ZoneInfo("Europe/Paris")
_KINDS: dict[str, dict[str, Any]] = {
    "daily_consumption": {
        "path": "/metering_data_dc/v5/daily_consumption",
        "window_days": 365,
        "unit": "Wh",
        "interval_s": 86_400,
    },
    "load_curve": {
        "path": "/metering_data_clc/v5/consumption_load_curve",
        "window_days": 7,
        "unit": "W",
        "interval_s": 1800,
    },
}


class EnedisDataConnect(Connector):
    name = "enedis.dataconnect"
    version = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "Enedis Data Connect — consommation quotidienne et courbe de charge du "
        "compteur Linky, avec votre accord sur votre compte Enedis",
        "en": "Enedis Data Connect — daily consumption and load curve of a Linky meter, "
        "with your consent on your Enedis account",
    }
    doctypes = ("energy.meter", "energy.reading")
    supports_pkce = False
    default_urls: ClassVar[dict[str, str]] = {
        "authorize": "https://mon-compte-particulier.enedis.fr",
        "api": "https://gw.ext.prod.api.enedis.fr",
    }

    # -- authorisation -------------------------------------------------------------------

    def authorization_url(self, state: str, code_challenge: str | None) -> str:
        query = {
            "client_id": self.config.client_id,
            "response_type": "code",
            "state": state,
            "duration": self.config.options.get("duration", "P1Y"),
        }
        return f"{self.url('authorize')}/dataconnect/v1/oauth2/authorize?{urlencode(query)}"

    def exchange_code(
        self, code: str, params: Mapping[str, str], code_verifier: str | None
    ) -> Grant:
        body = self._token({"grant_type": "authorization_code", "code": code}, refreshing=False)
        usage_point = str(params.get("usage_point_id") or body.get("usage_points_id") or "")
        usage_point = usage_point.split(",", maxsplit=1)[0].strip()
        if not (usage_point.isdigit() and len(usage_point) == 14):
            raise ProviderRefused(
                "Enedis did not name the meter (usage_point_id, 14 digits) in its answer",
                fr="Enedis n'a pas indiqué le compteur (usage_point_id, 14 chiffres)",
            )
        return Grant(_tokens(body), usage_point, f"Linky {usage_point[:4]}…{usage_point[-4:]}")

    def refresh(self, tokens: Tokens) -> Tokens:
        if not tokens.refresh_token:
            raise ReauthorizationNeeded(
                "no refresh token: consent again at Enedis",
                fr="pas de jeton de renouvellement : donnez à nouveau votre accord chez Enedis",
            )
        body = self._token(
            {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
            refreshing=True,
        )
        renewed = _tokens(body)
        if renewed.refresh_token is None:  # kept when the provider does not rotate it
            renewed = Tokens(renewed.access_token, tokens.refresh_token, renewed.expires_at)
        return renewed

    def _token(self, form: dict[str, str], *, refreshing: bool) -> dict[str, Any]:
        form = {**form, "client_id": self.config.client_id}
        form["client_secret"] = self.config.client_secret
        response = _call(
            lambda: self.http.request("POST", f"{self.url('api')}/oauth2/v3/token", data=form)
        )
        body = self.http.json(response) or {}
        if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
            return body
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
        if refreshing and (error == "invalid_grant" or response.status_code == 401):
            raise ReauthorizationNeeded(
                "Enedis refused to renew the authorisation (revoked or expired): "
                "consent again at Enedis",
                fr="Enedis refuse de renouveler l'autorisation (révoquée ou expirée) : "
                "donnez à nouveau votre accord chez Enedis",
            )
        raise ProviderRefused(
            f"the Enedis token endpoint answered {response.status_code} {error}".strip(),
            fr=f"le service de jetons d'Enedis a répondu {response.status_code} {error}".strip(),
        )

    # -- data ------------------------------------------------------------------------------

    def sync(self, account: SyncAccount, cursor: Mapping[str, Any]) -> Iterator[SyncBatch]:
        today = account.now.astimezone(_PARIS).date()
        position = dict(cursor)
        history = {
            "daily_consumption": int(self.config.options.get("history_days", "365")),
            "load_curve": int(self.config.options.get("load_curve_history_days", "7")),
        }
        for kind, spec in _KINDS.items():
            start = (
                date.fromisoformat(position[kind])
                if kind in position
                else today - timedelta(days=history[kind])
            )
            meter = self._meter(account.external_id, kind, spec)
            while start < today:
                end = min(start + timedelta(days=spec["window_days"]), today)
                chunk = self._fetch(account, kind, spec, start, end)
                position[kind] = end.isoformat()
                items: list[RecordBatch | SeriesChunk] = [meter]
                if chunk is not None:
                    items.append(chunk)
                yield SyncBatch(items, dict(position))
                start = end

    @staticmethod
    def _meter(usage_point: str, kind: str, spec: Mapping[str, Any]) -> RecordBatch:
        data = {
            "kind": "electricity",
            "provider": "Enedis",
            "meter_id": usage_point,
            "unit": spec["unit"],
            "reading_type": kind,
            "interval_s": spec["interval_s"],
        }
        return RecordBatch("energy.meter", [RecordRow(0, data, ref=f"meter:{kind}")])

    def _fetch(
        self, account: SyncAccount, kind: str, spec: Mapping[str, Any], start: date, end: date
    ) -> SeriesChunk | None:
        url = f"{self.url('api')}{spec['path']}"
        params = {
            "usage_point_id": account.external_id,
            "start": start.isoformat(),
            "end": end.isoformat(),
        }
        response = _call(
            lambda: self.http.request("GET", url, params=params, bearer=account.token())
        )
        if response.status_code == 401:  # expired early: renew once
            account.renew()
            response = _call(
                lambda: self.http.request("GET", url, params=params, bearer=account.token())
            )
        if response.status_code == 404:
            return None  # no data for the period (meter not communicating…)
        body = self.http.json(response)
        if response.status_code == 403:
            raise ReauthorizationNeeded(
                "Enedis no longer allows access to this meter: consent again at Enedis",
                fr="Enedis n'autorise plus l'accès à ce compteur : donnez à nouveau votre "
                "accord chez Enedis",
            )
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error", "") if isinstance(body, dict) else ""
            description = body.get("error_description", "") if isinstance(body, dict) else ""
            raise ProviderRefused(
                f"Enedis refused {kind} from {start} to {end}: "
                f"{response.status_code} {error} {description}".strip(),
                fr=f"Enedis a refusé {kind} du {start} au {end} : "
                f"{response.status_code} {error} {description}".strip(),
            )
        return _chunk(body, kind, spec, f"{kind} {start}")


def _call(send: Callable[[], httpx.Response]) -> httpx.Response:
    """One request, its transport failures turned into the framework's errors."""
    try:
        response = send()
    except RateLimited as exc:
        raise ProviderUnavailable(
            f"Enedis limits the request rate: retry in {exc.retry_after:.0f} s",
            fr=f"Enedis limite le nombre de requêtes : nouvel essai dans {exc.retry_after:.0f} s",
            reason="rate-limited",
            retry_after=exc.retry_after,
        ) from None
    except Unreachable as exc:
        raise ProviderUnavailable(
            f"Enedis is unavailable ({exc}); the sync will be retried",
            fr=f"Enedis est indisponible ({exc}) ; la synchronisation sera relancée",
        ) from None
    return response


def _tokens(body: Mapping[str, Any]) -> Tokens:
    expires_in = float(body.get("expires_in") or 3600)
    refresh = body.get("refresh_token")
    return Tokens(
        str(body["access_token"]), str(refresh) if refresh else None, time.time() + expires_in
    )


def _chunk(body: Mapping[str, Any], kind: str, spec: Mapping[str, Any], where: str) -> SeriesChunk:
    reading = body.get("meter_reading")
    intervals = reading.get("interval_reading") if isinstance(reading, dict) else None
    if not isinstance(intervals, list):
        raise ProviderRefused(
            f"Enedis answered {where} without meter_reading.interval_reading",
            fr=f"la réponse d'Enedis ({where}) n'a pas de meter_reading.interval_reading",
        )
    times = LocalTimes("Europe/Paris")
    ts: list[int] = []
    values: list[float] = []
    for entry in intervals:
        try:
            value = float(entry["value"])
            stamp = times.parse(str(entry["date"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderRefused(
                f"Enedis answered an unreadable reading ({where}): {exc}",
                fr=f"Enedis a renvoyé un relevé illisible ({where}) : {exc}",
            ) from None
        if kind == "daily_consumption":
            day = stamp.astimezone(_PARIS).date()
            ts.append(int(datetime(day.year, day.month, day.day, tzinfo=_PARIS).timestamp()))
        else:  # stamped at the end of its interval: the reading's time is its start
            step = _seconds(str(entry.get("interval_length") or "PT30M"), spec["interval_s"])
            ts.append(int(stamp.timestamp()) - step)
        values.append(value)
    return SeriesChunk(
        "energy.reading",
        f"meter:{kind}",
        np.asarray(ts, dtype=np.int64),
        np.asarray(values, dtype=np.float64).reshape(-1, 1),
        0,
        {"reading_type": kind},
    )


def _seconds(duration: str, default: int) -> int:
    """``PT30M`` → 1800 (the only shapes Enedis uses: PTnM, PTnH, PnD)."""
    text = duration.upper()
    try:
        if text.startswith("PT") and text.endswith("M"):
            return int(text[2:-1]) * 60
        if text.startswith("PT") and text.endswith("H"):
            return int(text[2:-1]) * 3600
        if text.startswith("P") and text.endswith("D"):
            return int(text[1:-1]) * 86_400
    except ValueError:
        pass
    return default
