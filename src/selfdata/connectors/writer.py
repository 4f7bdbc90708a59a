"""Writing what a connector yields through the account's own view of the space.

The same rules as an import's writing pass (``importers/runner.py``): records keyed
by their natural key (``on_existing="update"``), series merged by timestamp. Writing
a batch twice therefore changes nothing, which is what makes a sync stopped halfway
safe to run again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from selfdata.access import SpaceView, Stream
from selfdata.importers.base import RecordBatch, SeriesChunk

__all__ = ["SyncCounts", "SyncWriter"]


@dataclass(slots=True)
class SyncCounts:
    records_created: int = 0
    records_updated: int = 0
    points_read: int = 0
    points_gained: int = 0
    batches: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "records_created": self.records_created,
            "records_updated": self.records_updated,
            "points_read": self.points_read,
            "points_gained": self.points_gained,
            "batches": self.batches,
        }


@dataclass
class SyncWriter:
    view: SpaceView
    source_id: str
    counts: SyncCounts = field(default_factory=SyncCounts)
    _parents: dict[str, str] = field(default_factory=dict)  # ref -> record id
    _streams: dict[tuple[str, str], Stream] = field(default_factory=dict)

    def write(self, items: list[RecordBatch | SeriesChunk]) -> None:
        for item in items:
            if isinstance(item, RecordBatch):
                self._records(item)
            else:
                self._points(item)
        self.counts.batches += 1

    def _records(self, batch: RecordBatch) -> None:
        plain = [row.data for row in batch.rows if row.ref is None]
        for row in batch.rows:
            if row.ref is None or row.ref in self._parents:
                continue  # a parent already written in this sync
            written = self.view.put_records(
                batch.doctype, [row.data], source_id=self.source_id, on_existing="update"
            )
            self._count(written.created, written.updated)
            self._parents[row.ref] = written.ids[0]
        if plain:
            written = self.view.put_records(
                batch.doctype, plain, source_id=self.source_id, on_existing="update"
            )
            self._count(written.created, written.updated)

    def _count(self, created: int, updated: int) -> None:
        self.counts.records_created += created
        self.counts.records_updated += updated

    def _points(self, chunk: SeriesChunk) -> None:
        self.counts.points_read += int(chunk.ts.shape[0])
        if not chunk.ts.shape[0]:
            return
        record_id = self._parents[chunk.parent_ref]
        key = (chunk.doctype, record_id)
        stream = self._streams.get(key)
        if stream is None:
            existing = self.view.streams(chunk.doctype, record_id=record_id)
            stream = (
                existing[0]
                if existing
                else self.view.create_stream(
                    chunk.doctype, record_id=record_id, meta=chunk.meta, source_id=self.source_id
                )
            )
            self._streams[key] = stream
        self.counts.points_gained += self.view.append_points(stream.id, chunk.ts, chunk.values)
