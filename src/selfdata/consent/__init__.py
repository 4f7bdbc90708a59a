"""Consent: the notice a citizen reads, the record of what they decided, the receipt.

Pure domain code (no database, no web): :mod:`.notice` turns a service manifest into a
versioned, hashed notice in French and English; :mod:`.record` is the consent record
aligned with ISO/IEC TS 27560 with its full state history; :mod:`.receipt` is the signed
receipt both the citizen and the service receive. The sealed storage of records lives
in the store, reached only through the authorisation point.
"""

from selfdata.consent.notice import Notice, build_notice
from selfdata.consent.receipt import RECEIPT_TYP, make_receipt, verify_receipt
from selfdata.consent.record import ConsentRecord, Grant, StateChange

__all__ = [
    "RECEIPT_TYP",
    "ConsentRecord",
    "Grant",
    "Notice",
    "StateChange",
    "build_notice",
    "make_receipt",
    "verify_receipt",
]
