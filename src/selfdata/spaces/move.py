"""Moving a space directly to another instance, over HTTPS (docs/move.md).

Source side (the instance the space leaves):

1. :meth:`Moves.offer` — the citizen asks to move: a one-time code (256 bits, shown
   once, stored as its SHA-256, good for 30 minutes) is created, ``move.offer`` logged.
2. :meth:`Moves.claim` then :meth:`Moves.send_archive` — the destination presents the
   code once: the offer becomes ``fetched`` (a second use is refused) and the whole
   space is exported, age-encrypted with the code as passphrase, while its SHA-256 is
   computed. The space is **kept**.
3. :meth:`Moves.confirm` — the destination says what it imported (the SHA-256 of the
   archive it received). If it is what was sent, ``move.confirm`` is logged and the
   space is erased (key destroyed, then data purged) with a signed erasure certificate
   naming the destination, which is the answer. Otherwise nothing changes.

Destination side: :meth:`Moves.pull` — an operator action (it creates a space and an
account, like ``selfdata import-space``): fetch, import all or nothing, confirm; the
certificate is kept in the new space's log (``move.pull``).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, BinaryIO

import httpx
from sqlalchemy import Engine, insert, select, update

from selfdata.access import Actor, Gate
from selfdata.access.policy import AccessRequest
from selfdata.access.portability import export_space
from selfdata.audit import AuditEvent
from selfdata.db.tables import move_offers
from selfdata.errors import (
    AuthenticationFailed,
    Conflict,
    CryptoError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    SelfdataError,
)
from selfdata.ids import new_id
from selfdata.portability.move import (
    ARCHIVE_PATH,
    CONFIRM_PATH,
    OFFER_TTL_SECONDS,
    WORK_FACTOR,
    code_hash,
    destination_name,
    is_code,
    new_code,
    same_digest,
    source_base,
)
from selfdata.rights.certificate import ErasureStatement
from selfdata.settings import Settings
from selfdata.spaces.accounts import validate_password, validate_username
from selfdata.spaces.directory import SpaceDirectory

__all__ = ["MoveOffer", "Moves", "PullReport"]

_BLOCK = 1024 * 1024
_TIMEOUT = httpx.Timeout(30.0, read=600.0)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


@dataclass(frozen=True, slots=True)
class MoveOffer:
    """A move the citizen authorised; ``code`` is shown once and never stored."""

    id: str
    code: str
    source_url: str
    expires_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "source_url": self.source_url,
            "expires_at": self.expires_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class ClaimedOffer:
    """An offer whose code was just used to fetch the archive."""

    id: str
    space_id: str
    code: str


@dataclass
class PullReport:
    """A space moved in: where it came from, what was imported, the source's certificate."""

    name: str
    space_id: str
    source_url: str
    source_space_id: str
    archive_sha256: str
    certificate: str
    counts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "space_id": self.space_id,
            "source_url": self.source_url,
            "source_space_id": self.source_space_id,
            "archive_sha256": self.archive_sha256,
            "certificate": self.certificate,
            "counts": self.counts,
        }


class _HashingSink:
    """Passes the archive's bytes on while computing their SHA-256."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self._out.write(data)
        return len(data)

    def flush(self) -> None:
        self._out.flush()


def _problem_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail) if detail else f"HTTP {response.status_code}"


def _refused(response: httpx.Response, step: str) -> SelfdataError:
    """The source's refusal as an error of this instance (never a 401 or 5xx here:
    the operator who called is authenticated; the source said no)."""
    detail = f"the source instance refused {step}: {_problem_detail(response)}"
    if response.status_code == 409:
        return Conflict(detail)
    if response.status_code in (404, 405):
        return NotFound(f"{detail} (is it a selfdata instance that supports moves?)")
    return InvalidInput(detail)


class Moves:
    """Both ends of a move. Built by :attr:`selfdata.platform.Platform.moves`."""

    def __init__(
        self,
        engine: Engine,
        gate: Gate,
        directory: SpaceDirectory,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._engine = engine
        self._gate = gate
        self._directory = directory
        self._settings = settings
        self._transport = transport

    # -- the source: offer, send, confirm -------------------------------------------

    def offer(self, actor: Actor, space_id: str) -> MoveOffer:
        """A one-time code that lets another instance take the whole space. Only the
        citizen may ask (the gate decides it as an export of the space)."""
        now = self._gate.now_ms()
        code = new_code()
        offer_id = new_id(now)
        expires = now + OFFER_TTL_SECONDS * 1000
        request = AccessRequest(actor, space_id, "export", None, "own-use")
        with self._gate.access(request) as access:
            access.request = replace(request, action="move.offer")  # type: ignore[arg-type]
            access.conn.execute(
                insert(move_offers).values(
                    id=offer_id,
                    code_hash=code_hash(code),
                    space_id=space_id,
                    status="offered",
                    created_at=now,
                    expires_at=expires,
                )
            )
            access.note(target=offer_id, expires_at=_iso(expires))
        return MoveOffer(
            offer_id,
            code,
            self._settings.public_url,
            datetime.fromtimestamp(expires / 1000, tz=UTC),
        )

    def _find(self, code: str) -> Any:
        if not is_code(code):
            raise AuthenticationFailed("this move code is not valid")
        with self._engine.connect() as conn:
            row = conn.execute(
                select(move_offers).where(move_offers.c.code_hash == code_hash(code))
            ).first()
        if row is None:
            raise AuthenticationFailed("this move code is not valid")
        return row

    def _log(self, space_id: str, action: str, outcome: str, **detail: Any) -> None:
        reason = detail.pop("reason", None)
        self._gate.log_event(
            space_id,
            AuditEvent(
                action=action,
                actor_kind="anonymous",
                actor_id="-",
                outcome=outcome,  # type: ignore[arg-type]
                reason=reason,
                detail={"actor": "destination instance (move code)", **detail},
            ),
        )

    def claim(self, code: str) -> ClaimedOffer:
        """Use the code, once: the offer becomes ``fetched``. Unknown codes are a 401;
        expired or used ones are refused and logged in the space."""
        row = self._find(code)
        now = self._gate.now_ms()
        if row.status != "offered":
            self._log(row.space_id, "move.fetch", "denied", target=row.id, reason="code-used")
            raise Conflict("this move code was already used; ask the citizen for a new one")
        if row.expires_at <= now:
            self._log(row.space_id, "move.fetch", "denied", target=row.id, reason="code-expired")
            raise AuthenticationFailed("this move code has expired; ask the citizen for a new one")
        with self._engine.begin() as conn:
            claimed = conn.execute(
                update(move_offers)
                .where((move_offers.c.id == row.id) & (move_offers.c.status == "offered"))
                .values(status="fetched", fetched_at=now)
            ).rowcount
        if claimed != 1:  # another request used it a moment ago
            raise Conflict("this move code was already used; ask the citizen for a new one")
        return ClaimedOffer(row.id, row.space_id, code)

    def send_archive(self, claimed: ClaimedOffer, out: BinaryIO) -> str:
        """Write the whole space to ``out`` as an age file whose passphrase is the code,
        as the citizen who authorised it (an ``export`` in their log), and remember the
        SHA-256 of what was sent. The space is kept."""
        account = self._directory.account_for_space(claimed.space_id)
        actor = Actor.citizen(
            account.id, claimed.space_id, f"{account.username} (move to another instance)"
        )
        sink = _HashingSink(out)
        export_space(
            self._gate,
            actor,
            claimed.space_id,
            sink,  # type: ignore[arg-type]
            purpose="own-use",
            passphrase=claimed.code,
            work_factor=WORK_FACTOR,
        )
        digest = sink.sha.hexdigest()
        with self._engine.begin() as conn:
            conn.execute(
                update(move_offers)
                .where(move_offers.c.id == claimed.id)
                .values(archive_sha256=digest)
            )
        return digest

    def confirm(
        self, code: str, archive_sha256: str, destination: str, destination_space_id: str
    ) -> dict[str, Any]:
        """The destination imported the archive whose SHA-256 is ``archive_sha256``: if
        it is what was sent, erase the space here and answer the signed certificate.
        Repeating a successful confirmation answers the same certificate."""
        row = self._find(code)
        if row.status == "confirmed":
            if same_digest(row.archive_sha256, archive_sha256) and row.certificate:
                return {"confirmed": True, "certificate": row.certificate}
            raise Conflict("this move was already confirmed")
        if row.status != "fetched":
            raise Conflict("nothing was fetched with this code yet")
        if row.archive_sha256 is None:
            raise Conflict(
                "the archive was not completely sent with this code; the space was kept "
                "here; ask the citizen for a new code"
            )
        if not same_digest(row.archive_sha256, archive_sha256.strip().lower()):
            self._log(
                row.space_id,
                "move.confirm",
                "denied",
                target=row.id,
                reason="archive-mismatch",
                destination=destination,
            )
            raise Conflict(
                "the archive the destination imported is not the one this instance sent "
                "(SHA-256 mismatch); the space was kept here"
            )
        now = self._gate.now_ms()
        with self._engine.begin() as conn:
            won = conn.execute(
                update(move_offers)
                .where((move_offers.c.id == row.id) & (move_offers.c.status == "fetched"))
                .values(status="confirmed", confirmed_at=now)
            ).rowcount
        if won != 1:
            raise Conflict("this move is being confirmed by another request")
        where = destination_name(destination, destination_space_id)
        account = self._directory.account_for_space(row.space_id)
        actor = Actor.citizen(account.id, row.space_id, f"{account.username} (moved)")
        self._log(
            row.space_id,
            "move.confirm",
            "allowed",
            target=row.id,
            destination=where,
            archive_sha256=row.archive_sha256,
        )
        head = self._gate.log_head(row.space_id)
        counts = {str(k): int(v) for k, v in self._directory.erase(row.space_id, actor).items()}
        counts["space_keys"] = counts.pop("key_destroyed", 0)
        statement = ErasureStatement(
            space_id=row.space_id,
            scope="space",
            target=where,
            erased_at=self._gate.clock.now(),
            counts=counts,
            key_destroyed=True,
            log_seq=head[0] if head else None,
            log_head=head[1] if head else None,
        )
        certificate = self._gate.certify_erasure(statement)
        with self._engine.begin() as conn:
            conn.execute(
                update(move_offers)
                .where(move_offers.c.id == row.id)
                .values(certificate=certificate)
            )
        return {
            "confirmed": True,
            "certificate": certificate,
            "erased_at": statement.erased_at.isoformat(),
            "counts": counts,
        }

    # -- the destination: pull ---------------------------------------------------------

    def pull(
        self,
        actor: Actor,
        source_url: str,
        code: str,
        *,
        name: str,
        password: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> PullReport:
        """Take a space from the source instance: fetch its archive with the code,
        import it all or nothing as ``name``, then confirm to the source (which erases
        its copy). Any failure before the confirmation leaves the source untouched and
        no space here."""
        base = source_base(source_url)
        code = code.strip()
        if not is_code(code):
            raise InvalidInput("this is not a move code (it starts with sdm_)")
        username = validate_username(name)
        validate_password(password)
        try:
            self._directory.get_space(username)
        except NotFound:
            pass
        else:  # checked before the code is used up
            raise Conflict(f"the name {username!r} is already taken here; choose another")
        limit = self._settings.limits.max_file_bytes * 64
        with (
            tempfile.TemporaryFile(prefix="selfdata-move-") as spool,
            httpx.Client(transport=self._transport, timeout=_TIMEOUT) as http,
        ):
            # Only ciphertext touches the disk: the archive is age-encrypted by the code.
            sha = hashlib.sha256()
            size = 0
            try:
                with http.stream("POST", base + ARCHIVE_PATH, json={"code": code}) as response:
                    if response.status_code != 200:
                        response.read()
                        raise _refused(response, "the move code")
                    for chunk in response.iter_bytes(_BLOCK):
                        size += len(chunk)
                        if size > limit:
                            raise PayloadTooLarge(
                                f"the archive is larger than {limit} bytes; nothing was imported"
                            )
                        sha.update(chunk)
                        spool.write(chunk)
            except httpx.HTTPError as exc:
                raise InvalidInput(
                    f"could not fetch the archive from {base} ({type(exc).__name__}); "
                    "nothing was imported"
                ) from None
            digest = sha.hexdigest()
            spool.flush()
            try:
                report = self._directory.import_space(
                    spool, password, actor, name=username, passphrase=code, progress=progress
                )
            except CryptoError:
                raise InvalidInput(
                    "the archive received does not decrypt or verify (damaged or altered "
                    "in transit); nothing was imported and the source keeps the space"
                ) from None
            certificate = self._confirm(http, base, code, digest, report.space_id, actor)
        self._gate.log_event(
            report.space_id,
            AuditEvent(
                action="move.pull",
                actor_kind=actor.kind,
                actor_id=actor.id,
                outcome="allowed",
                reason="operator-administration",
                detail={
                    **actor.log_detail(),
                    "from_instance": base,
                    "from_space_id": report.source_space_id,
                    "archive_sha256": digest,
                    "erasure_certificate": certificate,
                },
            ),
        )
        self._gate.checkpoint(report.space_id)
        return PullReport(
            report.name,
            report.space_id,
            base,
            report.source_space_id,
            digest,
            certificate,
            report.counts,
        )

    def _confirm(
        self, http: httpx.Client, base: str, code: str, digest: str, space_id: str, actor: Actor
    ) -> str:
        body = {
            "code": code,
            "archive_sha256": digest,
            "destination": {"instance": self._settings.public_url, "space_id": space_id},
        }
        try:
            response = http.post(base + CONFIRM_PATH, json=body)
        except httpx.HTTPError as exc:
            # The source may or may not have erased its copy: keep this one.
            raise Conflict(
                f"the space was imported here ({space_id}) but the source did not answer "
                f"the confirmation ({type(exc).__name__}); both copies may exist: check "
                "the source, then erase one of them"
            ) from None
        if response.status_code == 200:
            certificate = response.json().get("certificate")
            if isinstance(certificate, str):
                return certificate
        if 400 <= response.status_code < 500:
            # A definite refusal: the source kept the space, so this copy goes.
            self._directory.erase(space_id, actor)
            raise _refused(response, "the confirmation; the imported copy was removed here")
        raise Conflict(
            f"the space was imported here ({space_id}) but the source answered the "
            f"confirmation with HTTP {response.status_code}; both copies may exist: check "
            "the source, then erase one of them"
        )
