"""The doctypes selfdata ships with, gathered from one module per category."""

from __future__ import annotations

from . import bank, calendar, contacts, energy, health, mobility, papers, services
from .registry import Doctype, DoctypeRegistry

__all__ = ["BUILTIN_DOCTYPES", "default_registry"]

BUILTIN_DOCTYPES: tuple[Doctype, ...] = (
    *energy.DOCTYPES,
    *bank.DOCTYPES,
    *mobility.DOCTYPES,
    *health.DOCTYPES,
    *calendar.DOCTYPES,
    *contacts.DOCTYPES,
    *papers.DOCTYPES,
    *services.DOCTYPES,
)


def default_registry() -> DoctypeRegistry:
    """A fresh registry holding every built-in doctype (cheap: models are built once)."""
    return DoctypeRegistry(BUILTIN_DOCTYPES)
