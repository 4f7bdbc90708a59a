"""The access log: one hash-chained, sealed sequence of events per space.

Every decision of the authorisation point (allowed, denied, or allowed but failed)
and every change to a space is an :class:`AuditEvent`. Events of one space form a
chain: each stored hash covers the previous hash and the event's canonical JSON, so
changing, removing, inserting or reordering an event breaks every later hash.
"""

from selfdata.audit.checkpoints import CHECKPOINT_TYP, Checkpoint
from selfdata.audit.events import AuditEvent, LoggedEvent
from selfdata.audit.export import LOG_FORMAT, Verification, export_lines, verify_lines
from selfdata.audit.log import GENESIS, append_event, chain_hash, list_events, verify_chain

__all__ = [
    "CHECKPOINT_TYP",
    "GENESIS",
    "LOG_FORMAT",
    "AuditEvent",
    "Checkpoint",
    "LoggedEvent",
    "Verification",
    "append_event",
    "chain_hash",
    "export_lines",
    "list_events",
    "verify_chain",
    "verify_lines",
]
