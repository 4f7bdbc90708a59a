"""Database adapter: engine creation (SQLite or PostgreSQL), tables and migrations.

Tables are SQLAlchemy Core (no ORM): the store writes in bulk and decrypts rows
itself, so plain rows are both simpler and faster than mapped objects.
"""

from selfdata.db.engine import create_engine_for, is_sqlite
from selfdata.db.migrate import current_revision, head_revision, upgrade

__all__ = ["create_engine_for", "current_revision", "head_revision", "is_sqlite", "upgrade"]
