"""Field values of a record as a reader expects them: dates in their language, money
with its currency, yes/no, coded values in words, measures with their unit — for the
explorer and record pages.

The type of a value is read from the doctype's model (a field declared as a date is
shown as a date even though the stored record holds ISO text); the record itself says
the currency or the unit when another field carries it.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import pydantic
from babel.numbers import format_currency, format_decimal

from selfdata.doctypes import Doctype
from selfdata.web.pages.i18n import Formatter

__all__ = ["FieldKind", "ValueFormatter"]

FieldKind = Literal["date", "decimal", "float", "int", "bool", "other"]

# A measure whose unit is another field of the same record.
_UNIT_FIELD = {
    "value_quantity": "value_unit",
    "reference_low": "value_unit",
    "reference_high": "value_unit",
    "threshold": "unit",
}
# Money whose currency is another field (default: ``currency``).
_CURRENCY_FIELD = {"original_amount": "original_currency"}
_SHORT = 80  # explorer cells are cut here; the record page shows everything


# pydantic's AwareDatetime & co are marker classes at run time, not date subclasses.
_TIME_MARKERS = frozenset(
    {pydantic.AwareDatetime, pydantic.NaiveDatetime, pydantic.PastDate, pydantic.FutureDate}
)


def _leaves(annotation: Any) -> set[Any]:
    """The plain types inside ``Annotated``, unions and lists (a list of dates: dates)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _leaves(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple):
        return set().union(*(_leaves(a) for a in typing.get_args(annotation) if a is not ...))
    return {origin or annotation}


def _kind(annotation: Any) -> FieldKind:
    leaves = _leaves(annotation) - {type(None)}
    if leaves & _TIME_MARKERS or any(isinstance(t, type) and issubclass(t, date) for t in leaves):
        return "date"
    if Decimal in leaves:
        return "decimal"
    if bool in leaves:
        return "bool"
    if float in leaves:
        return "float"
    if int in leaves:
        return "int"
    return "other"


class ValueFormatter:
    """Formats the fields of one doctype for one reader."""

    def __init__(self, doctype: Doctype, fmt: Formatter, gettext: Callable[[str], str]) -> None:
        self.doctype = doctype
        self.fmt = fmt
        self._ = gettext
        self.kinds: dict[str, FieldKind] = {
            name: _kind(info.annotation) for name, info in doctype.model.model_fields.items()
        }

    def label(self, name: str) -> str:
        """The field's words in the reader's language."""
        return self.doctype.field_label(name, self.fmt.lang)

    def value(self, name: str, record: Mapping[str, Any], *, short: bool = False) -> str:
        """Field ``name`` of ``record`` as text ("" when absent)."""
        raw = record.get(name)
        if raw is None or raw in ("", [], {}):
            return ""
        text = self._typed(name, raw, record)
        if short and len(text) > _SHORT:
            return text[: _SHORT - 1] + "…"
        return text

    def _typed(self, name: str, raw: Any, record: Mapping[str, Any]) -> str:
        kind = self.kinds.get(name, "other")
        if isinstance(raw, str) and name in self.doctype.choices:  # a code: its words
            return self.doctype.value_label(name, raw, self.fmt.lang)
        try:
            if kind == "date" and isinstance(raw, str):
                return self._when(raw)
            if kind == "date" and isinstance(raw, list) and all(isinstance(v, str) for v in raw):
                return ", ".join(self._when(v) for v in raw)
            if kind == "decimal" and not isinstance(raw, bool):
                return self._decimal(name, Decimal(str(raw)), record)
            if kind == "float" and isinstance(raw, int | float) and not isinstance(raw, bool):
                return self._unit(name, self.fmt.decimal(float(raw)), record)
            if kind == "int" and isinstance(raw, int) and not isinstance(raw, bool):
                return self._unit(name, self.fmt.number(raw), record)
        except (ValueError, InvalidOperation):
            pass  # a value the model would not accept today: show it as stored
        return self._plain(raw)

    def _when(self, text: str) -> str:
        return self.fmt.day(text) if len(text) == 10 else self.fmt.moment(text)

    def _decimal(self, name: str, number: Decimal, record: Mapping[str, Any]) -> str:
        currency = record.get(_CURRENCY_FIELD.get(name, "currency"))
        if isinstance(currency, str) and currency:
            return str(format_currency(number, currency, locale=self.fmt.lang))
        # An exact number keeps its scale: a lab's "5.40" stays "5,40".
        exponent = number.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        pattern = "#,##0" + ("." + "0" * places if places else "")
        return self._unit(name, format_decimal(number, pattern, locale=self.fmt.lang), record)

    def _unit(self, name: str, text: str, record: Mapping[str, Any]) -> str:
        unit = record.get(_UNIT_FIELD.get(name, ""))
        return f"{text} {unit}" if isinstance(unit, str) and unit else text

    def _plain(self, raw: Any) -> str:
        if isinstance(raw, bool):
            return self._("Yes") if raw else self._("No")
        if isinstance(raw, float):
            return self.fmt.decimal(raw)
        if isinstance(raw, int):
            return self.fmt.number(raw)
        if isinstance(raw, list | tuple):
            return ", ".join(self._plain(v) for v in raw)
        if isinstance(raw, dict):
            # A structure (an address, a coded value): its parts, in order, without keys.
            return ", ".join(self._plain(v) for v in raw.values() if v not in (None, ""))
        if isinstance(raw, datetime | date):
            return self.fmt.moment(raw) if isinstance(raw, datetime) else self.fmt.day(raw)
        return str(raw)
