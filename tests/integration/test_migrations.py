"""The Alembic migrations build exactly the schema the code declares, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from selfdata.db import current_revision, head_revision
from selfdata.db.tables import metadata
from selfdata.platform import Platform


def test_migrated_schema_matches_the_tables(platform: Platform) -> None:
    assert current_revision(platform.engine) == head_revision()
    with platform.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
