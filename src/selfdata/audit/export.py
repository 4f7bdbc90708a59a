"""The downloadable access log and its offline verification.

Format (JSON Lines, UTF-8), documented in docs/access-log.md::

    {"format": "selfdata-access-log/1", "space_id": …, "exported_at": …, "jwks": {…}}
    {"type": "event", "seq": 1, "at": …, "action": …, …, "prev_hash": …, "hash": …}
    …
    {"type": "checkpoint", "seq": N, "head": …, "at": …, "signature": "<JWS>"}

Verification recomputes the hash chain from the first event and checks every
checkpoint's signature and that it names the chain's hash at its sequence number.
It detects a changed, removed, inserted or reordered event: the chain breaks at the
first one, and a removal at the end is caught by the final checkpoint, made at export.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from selfdata.audit.checkpoints import Checkpoint
from selfdata.audit.events import LoggedEvent, canonical_bytes
from selfdata.audit.log import GENESIS, chain_hash
from selfdata.errors import CryptoError

__all__ = ["LOG_FORMAT", "Verification", "export_lines", "verify_lines"]

LOG_FORMAT = "selfdata-access-log/1"
_CHAIN_FIELDS = ("type", "seq", "at", "prev_hash", "hash")


def export_lines(
    space_id: str,
    exported_at: str,
    jwks: dict[str, Any],
    events: Iterable[LoggedEvent],
    checkpoints: Iterable[Checkpoint],
) -> Iterator[bytes]:
    yield (
        orjson.dumps(
            {"format": LOG_FORMAT, "space_id": space_id, "exported_at": exported_at, "jwks": jwks}
        )
        + b"\n"
    )
    for logged in events:
        yield orjson.dumps({"type": "event", **logged.as_dict()}) + b"\n"
    for checkpoint in checkpoints:
        yield orjson.dumps({"type": "checkpoint", **checkpoint.as_dict()}) + b"\n"


@dataclass
class Verification:
    ok: bool = True
    events: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    space_id: str | None = None
    signed_until: str | None = None  # when the newest verified checkpoint was signed

    def fail(self, message: str) -> None:
        self.ok = False
        self.problems.append(message)


def _signed_at(checkpoint: Checkpoint, jwks: dict[str, Any]) -> str | None:
    try:
        iat = checkpoint.verify(jwks).get("iat")
    except CryptoError:
        return None
    if not isinstance(iat, int):
        return None
    return datetime.fromtimestamp(iat, tz=UTC).isoformat()


def verify_lines(lines: Iterable[bytes], jwks: dict[str, Any] | None = None) -> Verification:
    """Check an exported log. ``jwks`` is the operator's published key set; without it
    the key embedded in the file is used, which proves integrity only against the
    file's own author (a warning says so)."""
    result = Verification()
    header: dict[str, Any] | None = None
    heads: dict[int, str] = {}
    prev, expected = GENESIS, 1
    checkpoints: list[Checkpoint] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            item = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            result.fail(f"line {number}: not JSON ({exc})")
            return result
        if not isinstance(item, dict):
            result.fail(f"line {number}: expected a JSON object")
            return result
        if header is None:
            if item.get("format") != LOG_FORMAT:
                result.fail(
                    f"line {number}: not a selfdata access log (format {item.get('format')!r})"
                )
                return result
            header = item
            result.space_id = item.get("space_id")
            continue
        kind = item.get("type")
        if kind == "event":
            seq = item.get("seq")
            if seq != expected:
                result.fail(
                    f"line {number}: event {expected} is missing or out of order (found {seq})"
                )
                return result
            if item.get("prev_hash") != prev.hex():
                result.fail(f"line {number}: event {seq} does not point at the event before it")
                return result
            body = {k: v for k, v in item.items() if k not in _CHAIN_FIELDS}
            digest = chain_hash(prev, canonical_bytes(seq, item.get("at", ""), body))
            if digest.hex() != item.get("hash"):
                result.fail(
                    f"line {number}: event {seq} was altered (its hash does not match its content)"
                )
                return result
            heads[seq] = digest.hex()
            prev, expected = digest, expected + 1
            result.events += 1
        elif kind == "checkpoint":
            try:
                checkpoints.append(
                    Checkpoint(
                        str(header.get("space_id")),
                        int(item["seq"]),
                        str(item["head"]),
                        str(item["at"]),
                        str(item["signature"]),
                    )
                )
            except (KeyError, TypeError, ValueError):
                result.fail(f"line {number}: a checkpoint needs seq, head, at and signature")
                return result
        else:
            result.fail(f"line {number}: unknown entry type {kind!r}")
            return result
    if header is None:
        result.fail("the file is empty")
        return result
    keys = jwks if jwks is not None else header.get("jwks") or {}
    if jwks is None:
        result.warnings.append(
            "checked against the key inside the file; pass the operator's published JWK Set "
            "(--jwks) to prove the operator signed it"
        )
    for checkpoint in checkpoints:
        try:
            checkpoint.verify(keys)
        except CryptoError as exc:
            result.fail(f"checkpoint {checkpoint.seq}: {exc}")
            continue
        if checkpoint.seq not in heads:
            result.fail(
                f"checkpoint {checkpoint.seq} signs events that are not in the file "
                f"(the log stops at event {expected - 1}): events were removed"
            )
        elif heads[checkpoint.seq] != checkpoint.head:
            result.fail(
                f"checkpoint {checkpoint.seq} does not match the chain: the log was rewritten"
            )
        else:
            result.checkpoints += 1
    last_signed = max((c.seq for c in checkpoints), default=0)
    newest = max(checkpoints, key=lambda c: c.seq, default=None)
    if result.ok and newest is not None:
        signed_at = _signed_at(newest, keys)
        exported = str(header.get("exported_at", ""))
        result.signed_until = signed_at
        if signed_at and exported and exported[:16] > signed_at[:16]:
            result.warnings.append(
                f"the newest signature dates from {signed_at}, before the export ({exported}): "
                "events after it may have been cut off; compare with a checkpoint you kept"
            )
    if result.ok and last_signed < expected - 1:
        result.warnings.append(
            f"events {last_signed + 1}–{expected - 1} come after the last signed checkpoint"
        )
    if result.ok and not checkpoints:
        result.warnings.append(
            "no signed checkpoint: only the chain's internal consistency was checked"
        )
    return result
