"""The operator's registry of services: register, approve, suspend, retire.

Manifests are public information (a notice is only useful if anyone can read it), so
they are stored in clear. A suspended or retired service loses access on its very next
request: the authorisation point reads the status inside each access's transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import orjson
from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from selfdata.clock import Clock
from selfdata.db.tables import services
from selfdata.errors import Conflict, FieldError, NotFound, ValidationFailed
from selfdata.questions.builtins import BuiltinRegistry
from selfdata.services.manifest import Manifest

__all__ = ["ServiceInfo", "ServiceRegistry", "ServiceStatus", "service_status"]

ServiceStatus = Literal["pending", "approved", "suspended", "retired"]
_TRANSITIONS: dict[str, set[str]] = {
    "approve": {"pending", "suspended"},
    "suspend": {"approved", "pending"},
    "retire": {"pending", "approved", "suspended"},
}


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    id: str
    status: ServiceStatus
    manifest: Manifest
    manifest_hash: str
    created_at: datetime
    updated_at: datetime
    confidential: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "status": self.status,
            "version": self.manifest.version,
            "manifest_hash": self.manifest_hash,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "confidential_client": self.confidential,
            "manifest": self.manifest.model_dump(mode="json"),
        }


def _info(row: object) -> ServiceInfo:
    r = row  # a Row; attribute access
    return ServiceInfo(
        id=r.id,  # type: ignore[attr-defined]
        status=r.status,  # type: ignore[attr-defined]
        manifest=Manifest.model_validate(orjson.loads(r.manifest)),  # type: ignore[attr-defined]
        manifest_hash=r.manifest_hash,  # type: ignore[attr-defined]
        created_at=datetime.fromtimestamp(r.created_at / 1000, tz=UTC),  # type: ignore[attr-defined]
        updated_at=datetime.fromtimestamp(r.updated_at / 1000, tz=UTC),  # type: ignore[attr-defined]
        confidential=r.client_secret_hash is not None,  # type: ignore[attr-defined]
    )


_STATUS = select(services.c.status).where(services.c.id == bindparam("service_id"))


def service_status(conn: Connection, service_id: str) -> str | None:
    """The status of a service, inside the caller's transaction (the gate's check)."""
    value = conn.execute(_STATUS, {"service_id": service_id}).scalar()
    return None if value is None else str(value)


def _builtin_errors(manifest: Manifest, builtins: BuiltinRegistry) -> list[FieldError]:
    """A question answered by a built-in must name one installed here, and let it read
    every doctype its code reads (else it could only fail when asked, in front of a
    citizen who consented to it)."""
    errors: list[FieldError] = []
    for i, question in enumerate(manifest.questions):
        if question.builtin is None:
            continue
        loc = ("questions", i, "builtin")
        if question.builtin not in builtins:
            installed = ", ".join(builtins.names()) or "none"
            errors.append(
                FieldError(
                    loc,
                    f"no built-in question {question.builtin!r} is installed on this "
                    f"instance (installed: {installed})",
                )
            )
            continue
        missing = [d for d in builtins.get(question.builtin).doctypes if d not in question.doctypes]
        if missing:
            errors.append(
                FieldError(
                    loc,
                    f"built-in {question.builtin} reads {', '.join(missing)}, which question "
                    f"{question.name} does not name in its doctypes",
                )
            )
    return errors


class ServiceRegistry:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        doctypes: Iterable[str],
        builtins: BuiltinRegistry | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._doctypes = frozenset(doctypes)
        self._labels: dict[str, str] = {}
        self._builtins = builtins

    @property
    def builtins(self) -> BuiltinRegistry:
        """The built-in questions of this instance, shared with the question runner so
        that registration checks against exactly what can answer (loaded on first use:
        importing the plugins is not free, and most commands never need them)."""
        if self._builtins is None:
            self._builtins = BuiltinRegistry.installed()
        return self._builtins

    def _now(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    def register(self, manifest: Manifest) -> ServiceInfo:
        """Register a new service (pending until approved), or a new version of one:
        a changed manifest goes back to pending, so the operator vets every change."""
        unknown = [
            FieldError(
                ("requests", i, "doctypes", j), f"{name!r} is not a doctype of this instance"
            )
            for i, request in enumerate(manifest.requests)
            for j, name in enumerate(request.doctypes)
            if name not in self._doctypes
        ]
        if unknown:
            raise ValidationFailed(
                f"the manifest of {manifest.id} asks for unknown doctypes", unknown
            )
        builtin_errors = _builtin_errors(manifest, self.builtins)
        if builtin_errors:
            raise ValidationFailed(
                f"the manifest of {manifest.id} names built-in questions this instance "
                "cannot answer",
                builtin_errors,
            )
        self._labels.pop(manifest.id, None)
        now = self._now()
        with self._engine.begin() as conn:
            row = conn.execute(select(services).where(services.c.id == manifest.id)).first()
            if row is None:
                conn.execute(
                    insert(services).values(
                        id=manifest.id,
                        version=manifest.version,
                        status="pending",
                        manifest=manifest.canonical(),
                        manifest_hash=manifest.digest(),
                        created_at=now,
                        updated_at=now,
                    )
                )
            else:
                if row.status == "retired":
                    raise Conflict(f"service {manifest.id} is retired; register it under a new id")
                if row.manifest_hash != manifest.digest():
                    conn.execute(
                        update(services)
                        .where(services.c.id == manifest.id)
                        .values(
                            version=manifest.version,
                            status="pending",
                            manifest=manifest.canonical(),
                            manifest_hash=manifest.digest(),
                            updated_at=now,
                        )
                    )
        return self.get(manifest.id)

    def _transition(self, service_id: str, action: str, status: ServiceStatus) -> ServiceInfo:
        with self._engine.begin() as conn:
            current = service_status(conn, service_id)
            if current is None:
                raise NotFound(f"no service {service_id!r}")
            if current not in _TRANSITIONS[action]:
                raise Conflict(f"service {service_id} is {current}; it cannot be {action}d")
            conn.execute(
                update(services)
                .where(services.c.id == service_id)
                .values(status=status, updated_at=self._now())
            )
        return self.get(service_id)

    def approve(self, service_id: str) -> ServiceInfo:
        return self._transition(service_id, "approve", "approved")

    def suspend(self, service_id: str) -> ServiceInfo:
        return self._transition(service_id, "suspend", "suspended")

    def retire(self, service_id: str) -> ServiceInfo:
        return self._transition(service_id, "retire", "retired")

    def get(self, service_id: str) -> ServiceInfo:
        with self._engine.connect() as conn:
            row = conn.execute(select(services).where(services.c.id == service_id)).first()
        if row is None:
            raise NotFound(f"no service {service_id!r}")
        return _info(row)

    def list(self, status: ServiceStatus | None = None) -> list[ServiceInfo]:
        query = select(services).order_by(services.c.id)
        if status is not None:
            query = query.where(services.c.status == status)
        with self._engine.connect() as conn:
            return [_info(row) for row in conn.execute(query)]

    def label(self, service_id: str) -> str:
        """The service's English name, for access-log entries. Cached: it is only a label
        (the status, which grants or refuses, is read at every access)."""
        cached = self._labels.get(service_id)
        if cached is not None:
            return cached
        name = self.get(service_id).manifest.name.en
        self._labels[service_id] = name
        return name

    def issue_client_secret(self, service_id: str) -> str:
        """A new client secret (shown once) for a service that keeps secrets server-side;
        public clients use PKCE alone."""
        secret = secrets.token_urlsafe(32)
        with self._engine.begin() as conn:
            if service_status(conn, service_id) is None:
                raise NotFound(f"no service {service_id!r}")
            conn.execute(
                update(services)
                .where(services.c.id == service_id)
                .values(
                    client_secret_hash=hashlib.sha256(secret.encode()).digest(),
                    updated_at=self._now(),
                )
            )
        return secret

    def check_client_secret(self, service_id: str, secret: str) -> bool:
        with self._engine.connect() as conn:
            stored = conn.execute(
                select(services.c.client_secret_hash).where(services.c.id == service_id)
            ).scalar()
        if stored is None:
            return False
        return secrets.compare_digest(bytes(stored), hashlib.sha256(secret.encode()).digest())
