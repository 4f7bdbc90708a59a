"""The notice shown before consent, generated from the manifest (never hand-written).

Everything the citizen must know to decide — who, what data, for what purposes, how
long, who else receives it, compensation — comes from the manifest the operator
approved, in plain words, in both languages. The notice's SHA-256 is kept in every
consent record, so what the citizen read can always be proven.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from selfdata.doctypes import DoctypeRegistry
from selfdata.services.manifest import Manifest
from selfdata.services.purposes import LEGAL_BASES, PURPOSES

__all__ = ["Notice", "build_notice"]

_OPERATIONS = {
    "read": ("read", "lire"),
    "write": ("add or change", "ajouter ou modifier"),
    "derive": ("compute results from", "calculer des résultats à partir de"),
}


_UNITS = {
    "Y": ("years", "ans"),
    "M": ("months", "mois"),
    "W": ("weeks", "semaines"),
    "D": ("days", "jours"),
}

_TEXTS = {
    "en": {
        "recent": "the last {span}",
        "who": "Service provided by {name} ({contact})",
        "kept": "Kept by the service for {span}",
        "not_kept": "Not kept by the service after use",
        "purposes": "Purposes",
        "recipients": "Also received by",
        "none": "No compensation: you are not paid and your data is not sold.",
        "paid": "Compensation: ",
        "duration": "Your consent lasts {span} unless you withdraw it; "
        "you will be asked to renew it.",
        "withdrawal": "You can withdraw at any time in one click; "
        "the service loses access at its next request.",
        "and": " and ",
        "colon": ": ",
        "questions": "Questions the service may ask (only the answer leaves your space)",
        "question": "uses {data} — {recent}; answer of at most {size}",
    },
    "fr": {
        "recent": "les {span} précédents",
        "who": "Service fourni par {name} ({contact})",
        "kept": "Conservé par le service pendant {span}",
        "not_kept": "Non conservé par le service après usage",
        "purposes": "Finalités",
        "recipients": "Également transmis à",
        "none": "Aucune contrepartie : vous n'êtes pas rémunéré·e "
        "et vos données ne sont pas vendues.",
        "paid": "Contrepartie : ",
        "duration": "Votre consentement dure {span} sauf retrait ; "
        "son renouvellement vous sera proposé.",
        "withdrawal": "Vous pouvez retirer votre consentement à tout moment en un clic ; "
        "le service perd l'accès dès sa requête suivante.",
        "and": " et ",
        "colon": " : ",
        "questions": "Questions que le service peut poser (seule la réponse quitte votre espace)",
        "question": "utilise {data} — {recent} ; réponse d'au plus {size}",
    },
}


def _span(period: str, lang: str) -> str:
    """P12M -> "12 months" / "12 mois"; composite periods stay in ISO 8601."""
    body = period.removeprefix("P")
    if len(body) >= 2 and body[:-1].isdigit() and body[-1] in _UNITS:
        return f"{body[:-1]} {_UNITS[body[-1]][0 if lang == 'en' else 1]}"
    return period


@dataclass(frozen=True, slots=True)
class Notice:
    service_id: str
    manifest_version: str
    manifest_hash: str
    content: dict[str, Any]  # {"fr": {...}, "en": {...}}

    @property
    def hash(self) -> str:
        return hashlib.sha256(orjson.dumps(self.content, option=orjson.OPT_SORT_KEYS)).hexdigest()

    @property
    def id(self) -> str:
        return f"{self.service_id}@{self.manifest_version}#{self.hash[:16]}"

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        content = self.content if lang is None else self.content[lang]
        return {
            "id": self.id,
            "hash": self.hash,
            "service_id": self.service_id,
            "manifest_version": self.manifest_version,
            "content": content,
        }

    def text(self, lang: str = "fr") -> str:
        """The notice as plain text (CLI, e-mail, accessibility)."""
        c = self.content[lang]
        colon = _TEXTS[lang]["colon"]
        lines = [c["title"], "", c["who"], "", c["description"], ""]
        for request in c["requests"]:
            lines.append(f"• {request['summary']}")
            lines.append(f"  {request['explanation']}")
            lines.append(f"  {request['purposes_label']}{colon}{', '.join(request['purposes'])}")
            lines.append(f"  {request['retention']}")
            if request["recipients"]:
                lines.append(
                    f"  {request['recipients_label']}{colon}{', '.join(request['recipients'])}"
                )
        if c.get("questions"):
            lines += ["", c["questions_label"]]
            for q in c["questions"]:
                lines.append(f"• {q['description']}")
                lines.append(f"  {q['summary']}")
        lines += ["", c["duration"], c["compensation"], c["withdrawal"]]
        return "\n".join(lines)


def build_notice(manifest: Manifest, doctypes: DoctypeRegistry) -> Notice:
    content = {lang: _content(manifest, doctypes, lang) for lang in ("fr", "en")}
    return Notice(manifest.id, manifest.version, manifest.digest(), content)


def _content(manifest: Manifest, doctypes: DoctypeRegistry, lang: str) -> dict[str, Any]:
    t = _TEXTS[lang]
    en = lang == "en"
    c = manifest.controller
    requests = []
    for r in manifest.requests:
        data = [doctypes.get(d).title.get(lang, d) if d in doctypes else d for d in r.doctypes]
        ops = t["and"].join(_OPERATIONS[o][0 if en else 1] for o in r.operations)
        recent = t["recent"].format(span=_span(r.period, lang))
        requests.append(
            {
                "id": r.id,
                "required": r.required,
                "summary": f"{ops.capitalize()}{t['colon']}{', '.join(data)} — {recent}",
                "doctypes": r.doctypes,
                "operations": r.operations,
                "period": r.period,
                "explanation": r.explanation.get(lang),
                "purposes_label": t["purposes"],
                "purposes": [PURPOSES[p][0 if en else 1] for p in r.purposes],
                "purpose_terms": r.purposes,
                "legal_basis": LEGAL_BASES[r.legal_basis][0 if en else 1],
                "retention": (
                    t["kept"].format(span=_span(r.retention, lang))
                    if r.retention != "P0D"
                    else t["not_kept"]
                ),
                "recipients_label": t["recipients"],
                "recipients": r.recipients,
            }
        )
    comp = manifest.compensation
    if comp.kind == "none":
        compensation = t["none"]
    else:
        amount = f"{comp.amount} {comp.currency}" if comp.kind == "monetary" else ""
        described = comp.description.get(lang) if comp.description else ""
        compensation = t["paid"] + " — ".join(x for x in (amount, described) if x)
    content = {
        "title": manifest.name.get(lang),
        "who": t["who"].format(name=c.name, contact=c.contact),
        "controller": {
            "name": c.name,
            "contact": str(c.contact),
            "url": str(c.url) if c.url else None,
        },
        "description": manifest.description.get(lang),
        "requests": requests,
        "duration": t["duration"].format(span=_span(manifest.consent_duration, lang)),
        "compensation": compensation,
        "withdrawal": t["withdrawal"],
    }
    if manifest.questions:
        # Only when there are questions: notices without them keep their hash.
        content["questions_label"] = t["questions"]
        content["questions"] = _questions(manifest, doctypes, lang)
    return content


def _size(n: int, lang: str) -> str:
    unit = ("bytes", "octets") if n < 1024 else ("KiB", "Kio")
    value = n if n < 1024 else round(n / 1024)
    return f"{value} {unit[0 if lang == 'en' else 1]}"


def _questions(manifest: Manifest, doctypes: DoctypeRegistry, lang: str) -> list[dict[str, Any]]:
    """Each question in plain words: what it answers, from which data, how recent,
    and how big its answer may be."""
    t = _TEXTS[lang]
    out = []
    for q in manifest.questions:
        data = ", ".join(
            doctypes.get(d).title.get(lang, d) if d in doctypes else d for d in q.doctypes
        )
        summary = t["question"].format(
            data=data,
            recent=t["recent"].format(span=_span(q.period, lang)),
            size=_size(q.max_answer_bytes, lang),
        )
        out.append(
            {
                "name": q.name,
                "description": q.description.get(lang),
                "summary": summary[:1].upper() + summary[1:],
                "doctypes": q.doctypes,
                "period": q.period,
                "max_answer_bytes": q.max_answer_bytes,
                "kind": "builtin" if q.builtin else "sql",
            }
        )
    return out
