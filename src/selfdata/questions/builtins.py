"""The built-in questions installed: entry points of group ``selfdata.questions``."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from selfdata.errors import NotFound
from selfdata.questions.plugin import ENTRY_POINT_GROUP, BuiltinQuestion

__all__ = ["BuiltinRegistry"]

log = logging.getLogger(__name__)


class BuiltinRegistry:
    def __init__(self, questions: dict[str, type[BuiltinQuestion]] | None = None) -> None:
        self._questions = dict(questions or {})

    @classmethod
    def installed(cls) -> BuiltinRegistry:
        """Every built-in question installed in this environment. A plugin that fails
        to load is logged and left out rather than stopping the server."""
        found: dict[str, type[BuiltinQuestion]] = {}
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = entry.load()
            except Exception:
                log.exception("could not load the built-in question %s", entry.name)
                continue
            if isinstance(loaded, type) and issubclass(loaded, BuiltinQuestion):
                found[entry.name] = loaded
            else:
                log.warning("entry point %s is not a BuiltinQuestion; ignored", entry.name)
        return cls(found)

    def add(self, question: type[BuiltinQuestion]) -> None:
        self._questions[question.name] = question

    def get(self, name: str) -> type[BuiltinQuestion]:
        try:
            return self._questions[name]
        except KeyError:
            raise NotFound(f"no built-in question {name!r} is installed on this instance") from None

    def names(self) -> list[str]:
        return sorted(self._questions)

    def __contains__(self, name: object) -> bool:
        return name in self._questions
