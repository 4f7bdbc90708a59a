"""The web app's catalogues: every string of the pages is translated into French, the
French default and the English switch work, and dates and numbers follow the locale."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from selfdata.web.pages.i18n import Formatter, translations

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "src" / "selfdata" / "web" / "locales"
METHODS = [
    ("src/selfdata/web/pages/**.py", "python"),
    ("src/selfdata/web/templates/pages/**.html", "jinja2"),
]
OPTIONS = {
    "src/selfdata/web/templates/pages/**.html": {
        "extensions": "jinja2.ext.i18n",
        "trim_blocks": "true",
        "lstrip_blocks": "true",
    }
}


def _source_strings() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), METHODS, OPTIONS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_page_string_has_a_french_translation() -> None:
    wanted = _source_strings()
    assert len(wanted) > 100  # the extraction really read the pages
    with (LOCALES / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale="fr")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (m.string if isinstance(m.string, str) else m.string[0])
    }
    missing = sorted(wanted - translated)
    assert missing == [], "run pybabel extract/update (docs/web.md) and translate: " + "; ".join(
        missing[:10]
    )


def test_catalogues_load_and_translate() -> None:
    assert translations("fr").gettext("My data") == "Mes données"
    assert translations("en").gettext("My data") == "My data"
    assert translations("fr").ngettext("%(num)s item", "%(num)s items", 1) == "%(num)s élément"
    assert translations("fr").ngettext("%(num)s item", "%(num)s items", 2) == "%(num)s éléments"


def test_dates_and_numbers_follow_the_locale() -> None:
    moment = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # already 2 March in Paris
    fr, en = Formatter("fr", "Europe/Paris"), Formatter("en", "Europe/Paris")
    assert fr.day(moment) == "2 mars 2026"
    assert en.day(moment) == "Mar 2, 2026"
    assert fr.number(1234567.891, 1).replace("\u202f", " ") == "1 234 567,9"
    assert en.number(1234567.891, 1) == "1,234,567.9"
    assert fr.number(None) == "—"
