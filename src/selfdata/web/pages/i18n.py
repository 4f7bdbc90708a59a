"""The web app's languages: gettext catalogues (Babel) and locale-aware formatting.

Catalogues are the ``.po`` files in ``selfdata/web/locales/<lang>/LC_MESSAGES/``,
compiled in memory the first time a language is used: there is no build step and no
``.mo`` file to forget (``pybabel compile`` still works for tools that want one). The
source strings are English; French is the default language of the interface.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from starlette.requests import Request

__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "LANG_COOKIE",
    "Formatter",
    "Lang",
    "choose_language",
    "translations",
]

Lang = Literal["fr", "en"]
LANGUAGES: tuple[Lang, ...] = ("fr", "en")
DEFAULT: Lang = "fr"
LANG_COOKIE = "selfdata_lang"


@cache
def translations(lang: Lang) -> Translations:
    """The catalogue of ``lang``, read from its .po file and compiled in memory."""
    po = resources.files("selfdata.web").joinpath(f"locales/{lang}/LC_MESSAGES/messages.po")
    with po.open("rb") as source:
        catalog = read_po(source, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def choose_language(request: Request) -> Lang:
    """The citizen's choice (cookie, set by the switch link), else the browser's first
    language we speak, else French."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen == "en":
        return "en"
    if chosen == "fr":
        return "fr"
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag == "en":
            return "en"
        if tag == "fr":
            return "fr"
    return DEFAULT


class Formatter:
    """Dates, times and numbers as a reader of ``lang`` expects them, in ``timezone``."""

    def __init__(self, lang: Lang, timezone: str) -> None:
        self.lang = lang
        self.zone = ZoneInfo(timezone)

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.lang)

    def decimal(self, value: float) -> str:
        """A number as sent (up to six decimals, none added), in the reader's notation."""
        return format_decimal(value, format="#,##0.######", locale=self.lang)

    def day(self, value: datetime | date | str | None) -> str:
        if value is None:
            return "—"
        moment = _moment(value)
        if isinstance(moment, datetime):
            moment = moment.astimezone(self.zone).date()
        return format_date(moment, format="medium", locale=self.lang)

    def moment(self, value: datetime | str | None) -> str:
        if value is None:
            return "—"
        moment = _moment(value)
        if not isinstance(moment, datetime):
            return self.day(moment)
        return format_datetime(
            moment.astimezone(self.zone), format="medium", locale=self.lang, tzinfo=self.zone
        )

    def pattern(self, value: datetime, pattern: str) -> str:
        """A date in a Babel pattern ("MMM y", "d MMM"…), in the local zone."""
        return format_datetime(value.astimezone(self.zone), pattern, locale=self.lang)


def _moment(value: datetime | date | str) -> datetime | date:
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


def jinja_globals(lang: Lang, timezone: str) -> dict[str, Any]:
    fmt = Formatter(lang, timezone)
    return {"fmt": fmt, "lang": lang}
