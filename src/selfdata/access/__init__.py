"""The single authorisation point and the consent-scoped view of a space.

Everything that reads or writes personal data — the citizen's UI, a service's token,
a connector, the operator, an export — holds a :class:`SpaceView` obtained from the
:class:`Gate`; no other module may import :mod:`selfdata.store` (an import-linter
contract in pyproject.toml fails the build if one does).
"""

from selfdata.access.actors import Actor
from selfdata.access.gate import Access, Gate
from selfdata.access.policy import AccessRequest, Action, Decision, decide
from selfdata.access.view import DoctypeSummary, SourceInfo, SpaceView
from selfdata.store.query import Filter, Query
from selfdata.store.types import FileInfo, Page, Record, SeriesFrame, Stream, WriteReport

__all__ = [
    "Access",
    "AccessRequest",
    "Action",
    "Actor",
    "Decision",
    "DoctypeSummary",
    "FileInfo",
    "Filter",
    "Gate",
    "Page",
    "Query",
    "Record",
    "SeriesFrame",
    "SourceInfo",
    "SpaceView",
    "Stream",
    "WriteReport",
    "decide",
]
