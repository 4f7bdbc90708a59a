"""The access log: one hash-chained, sealed sequence of events per space.

Every decision of the authorisation point (allowed, denied, or allowed but failed)
and every change to a space is an :class:`AuditEvent`. Events of one space form a
chain: each stored hash covers the previous hash and the event's canonical JSON, so
changing, removing, inserting or reordering an event breaks every later hash.
"""

from selfdata.audit.events import AuditEvent, LoggedEvent
from selfdata.audit.log import GENESIS, append_event, chain_hash, list_events, verify_chain

__all__ = [
    "GENESIS",
    "AuditEvent",
    "LoggedEvent",
    "append_event",
    "chain_hash",
    "list_events",
    "verify_chain",
]
