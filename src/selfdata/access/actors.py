"""Who is asking: every access names an actor."""

from __future__ import annotations

from dataclasses import dataclass

from selfdata.audit.events import ActorKind

__all__ = ["Actor"]


@dataclass(frozen=True, slots=True)
class Actor:
    """A citizen (``space_id`` is their own space), an operator, a service, a connector.

    ``label`` is what the access log shows (a username, a service name); it never
    grants anything.
    """

    kind: ActorKind
    id: str
    space_id: str | None = None
    label: str = ""
    consent_id: str | None = None

    def log_detail(self) -> dict[str, str]:
        """What an access-log event says of this actor besides its kind and id."""
        return {"actor": self.label} if self.label else {}

    @classmethod
    def citizen(cls, account_id: str, space_id: str, label: str = "") -> Actor:
        return cls("citizen", account_id, space_id, label)

    @classmethod
    def operator(cls, account_id: str, label: str = "") -> Actor:
        return cls("operator", account_id, None, label)

    @classmethod
    def cli_operator(cls) -> Actor:
        """The operator at the instance's command line (holder of the master key)."""
        return cls("operator", "cli", None, "operator (command line)")
