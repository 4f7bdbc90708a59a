"""The right of access (GDPR art. 15) in words: what a space holds, where it came from,
and who it is shared with — in French or English.

Pure: it turns facts the view gathered through the gate (counts, time spans, origins,
consents, access counts from the log) into a document with one sentence per item, so
the same text serves the API, the web app and the command line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from selfdata.consent.record import ConsentRecord
from selfdata.doctypes import DoctypeRegistry

__all__ = ["Holding", "Lang", "Origin", "ServiceActivity", "build_summary"]

Lang = Literal["fr", "en"]


@dataclass(frozen=True, slots=True)
class Holding:
    doctype: str
    kind: str  # record | series
    count: int  # records, or points of a series
    first: datetime | None
    last: datetime | None


@dataclass(frozen=True, slots=True)
class Origin:
    """``count`` items of ``what`` (a doctype, or "file") came from ``source_id``."""

    source_id: str | None
    what: str
    count: int


@dataclass(frozen=True, slots=True)
class ServiceActivity:
    """What the log shows of one service in this space."""

    allowed: int = 0
    refused: int = 0
    last: str | None = None


_T: dict[str, dict[str, str]] = {
    "title": {"fr": "Ce que votre espace contient", "en": "What your space holds"},
    "empty": {"fr": "Votre espace ne contient aucune donnée.", "en": "Your space holds no data."},
    "records": {"fr": "{n} élément(s) « {title} »", "en": "{n} item(s) of “{title}”"},
    "points": {
        "fr": "{n} mesure(s) « {title} »",
        "en": "{n} measurement(s) of “{title}”",
    },
    "span": {"fr": ", du {first} au {last}", "en": ", from {first} to {last}"},
    "files": {
        "fr": "{n} fichier(s), {size} au total",
        "en": "{n} file(s), {size} in all",
    },
    "by_you": {
        "fr": "{n} élément(s) « {title} » ajoutés ou importés par vous{ref}",
        "en": "{n} item(s) of “{title}” added or imported by you{ref}",
    },
    "by_service": {
        "fr": "{n} élément(s) « {title} » écrits par le service {service}",
        "en": "{n} item(s) of “{title}” written by the service {service}",
    },
    "import_ref": {"fr": " (import {id})", "en": " (import {id})"},
    "shared": {
        "fr": "{service} ({controller}) peut {ops} : {doctypes}, pour {purposes}, "
        "depuis le {since} jusqu'au {until}",
        "en": "{service} ({controller}) may {ops}: {doctypes}, for {purposes}, "
        "since {since} until {until}",
    },
    "ended": {
        "fr": "{service} : consentement {status} (donné le {since})",
        "en": "{service}: consent {status} (given on {since})",
    },
    "activity": {
        "fr": " — le journal montre {allowed} accès et {refused} refus{last}",
        "en": " — the log shows {allowed} access(es) and {refused} refusal(s){last}",
    },
    "last": {"fr": ", le dernier le {at}", "en": ", last on {at}"},
    "nobody": {
        "fr": "Vous ne partagez vos données avec aucun service.",
        "en": "You share your data with no service.",
    },
    "restricted_all": {
        "fr": "Tout traitement par les services est suspendu depuis le {since}.",
        "en": "All processing by services is restricted since {since}.",
    },
    "restricted_one": {
        "fr": "Le traitement de « {title} » par les services est suspendu depuis le {since}.",
        "en": "Processing of “{title}” by services is restricted since {since}.",
    },
    "file_title": {"fr": "fichiers", "en": "files"},
}
_OPS = {
    "read": {"fr": "lire", "en": "read"},
    "write": {"fr": "écrire", "en": "write"},
    "derive": {"fr": "calculer sur", "en": "compute on"},
}
_STATUS = {
    "withdrawn": {"fr": "retiré", "en": "withdrawn"},
    "expired": {"fr": "expiré", "en": "expired"},
    "active": {"fr": "actif", "en": "active"},
}


def _t(key: str, lang: Lang, **values: Any) -> str:
    return _T[key][lang].format(**values)


def _day(value: datetime | str | None) -> str:
    if value is None:
        return "?"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.date().isoformat()


def _size(n: int, lang: Lang) -> str:
    units = ("o", "Kio", "Mio", "Gio") if lang == "fr" else ("B", "KiB", "MiB", "GiB")
    size = float(n)
    for unit in units:
        if size < 1024 or unit == units[-1]:
            return f"{size:.0f} {unit}" if unit == units[0] else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} {units[0]}"  # pragma: no cover - the loop always returns


def _title(doctypes: DoctypeRegistry, name: str, lang: Lang) -> str:
    if name == "file":
        return _t("file_title", lang)
    if name in doctypes:
        return str(doctypes.get(name).title.get(lang, name))
    return name


def build_summary(
    *,
    space_id: str,
    generated_at: datetime,
    holdings: Sequence[Holding],
    origins: Sequence[Origin],
    files: tuple[int, int],
    consents: Sequence[ConsentRecord],
    activity: Mapping[str, ServiceActivity],
    restrictions: Sequence[tuple[str, datetime]],
    doctypes: DoctypeRegistry,
    lang: Lang = "fr",
) -> dict[str, Any]:
    """The access summary as a JSON-ready document (each item has its ``text``)."""
    held: list[dict[str, Any]] = []
    for h in holdings:
        title = _title(doctypes, h.doctype, lang)
        text = _t("records" if h.kind == "record" else "points", lang, n=h.count, title=title)
        if h.first and h.last:
            text += _t("span", lang, first=_day(h.first), last=_day(h.last))
        category = doctypes.get(h.doctype).category if h.doctype in doctypes else "other"
        held.append(
            {
                "doctype": h.doctype,
                "category": category,
                "title": title,
                "kind": h.kind,
                "count": h.count,
                "first": h.first.isoformat() if h.first else None,
                "last": h.last.isoformat() if h.last else None,
                "text": text,
            }
        )
    file_count, file_bytes = files
    files_out: dict[str, Any] = {
        "count": file_count,
        "bytes": file_bytes,
        "text": _t("files", lang, n=file_count, size=_size(file_bytes, lang)),
    }

    origin_out: list[dict[str, Any]] = []
    for o in origins:
        title = _title(doctypes, o.what, lang)
        if o.source_id is not None and o.source_id.startswith("service:"):
            service = o.source_id.removeprefix("service:")
            by, text = "service", _t("by_service", lang, n=o.count, title=title, service=service)
        else:
            service = None
            ref = _t("import_ref", lang, id=o.source_id) if o.source_id else ""
            by, text = "you", _t("by_you", lang, n=o.count, title=title, ref=ref)
        origin_out.append(
            {
                "source_id": o.source_id,
                "by": by,
                "service_id": service,
                "doctype": o.what,
                "count": o.count,
                "text": text,
            }
        )

    sharing: list[dict[str, Any]] = []
    for record in consents:
        name = record.service_name.get(lang) or record.service_id
        seen = activity.get(record.service_id, ServiceActivity())
        if record.status == "active":
            ops = sorted({op for g in record.grants for op in g.operations})
            text = _t(
                "shared",
                lang,
                service=name,
                controller=record.controller.get("name", "?"),
                ops=", ".join(_OPS.get(op, {}).get(lang, op) for op in ops),
                doctypes=", ".join(
                    _title(doctypes, d, lang) for g in record.grants for d in g.doctypes
                ),
                purposes=", ".join(sorted({p for g in record.grants for p in g.purposes})),
                since=_day(record.given_at),
                until=_day(record.expires_at),
            )
        else:
            status = _STATUS.get(record.status, {}).get(lang, record.status)
            text = _t("ended", lang, service=name, status=status, since=_day(record.given_at))
        last = _t("last", lang, at=_day(seen.last)) if seen.last else ""
        text += _t("activity", lang, allowed=seen.allowed, refused=seen.refused, last=last)
        sharing.append(
            {
                "consent_id": record.id,
                "service_id": record.service_id,
                "service_name": name,
                "controller": record.controller,
                "status": record.status,
                "since": record.given_at,
                "until": record.expires_at,
                "grants": [
                    {
                        "doctypes": list(g.doctypes),
                        "operations": list(g.operations),
                        "purposes": list(g.purposes),
                        "data_period_days": g.window_days,
                    }
                    for g in record.grants
                ],
                "accesses": seen.allowed,
                "refusals": seen.refused,
                "last_access": seen.last,
                "text": text,
            }
        )

    restricted = [
        {
            "scope": scope,
            "since": since.isoformat(),
            "text": _t("restricted_all", lang, since=_day(since))
            if scope == "*"
            else _t("restricted_one", lang, title=_title(doctypes, scope, lang), since=_day(since)),
        }
        for scope, since in restrictions
    ]

    lines = [_t("title", lang)]
    if not held and not file_count:
        lines.append(_t("empty", lang))
    lines += [str(h["text"]) for h in held]
    if file_count:
        lines.append(str(files_out["text"]))
    lines += [str(o["text"]) for o in origin_out]
    lines += [str(s["text"]) for s in sharing] or [_t("nobody", lang)]
    lines += [str(r["text"]) for r in restricted]
    return {
        "space_id": space_id,
        "generated_at": generated_at.isoformat(),
        "lang": lang,
        "title": _t("title", lang),
        "holdings": held,
        "files": files_out,
        "origins": origin_out,
        "sharing": sharing,
        "restrictions": restricted,
        "text": lines,
    }
