"""Doctypes: the named, versioned kinds of data a space holds.

A doctype (``bank.transaction``, ``energy.reading``…) pairs a pydantic model with what the
store, the gate and the importers need to know: its time field, its natural key for
de-duplication and, for time series, its value columns. See ``docs/doctypes.md``.

>>> from selfdata.doctypes.examples import EXAMPLES
>>> registry = default_registry()
>>> registry.get("bank.transaction").validate(EXAMPLES["bank.transaction"])["amount"]
'-42.50'
"""

from __future__ import annotations

from .builtin import default_registry
from .registry import Category, Doctype, DoctypeRegistry

__all__ = ["Category", "Doctype", "DoctypeRegistry", "default_registry"]
