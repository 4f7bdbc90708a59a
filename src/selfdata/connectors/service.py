"""Connectors as the interfaces use them: link an account, sync it, list, delete.

:class:`Connectors` is built from the platform's gate and settings. The citizen's
operations take the citizen's :class:`SpaceView`; a sync runs as the account itself
(actor ``connector``), so every read and write it makes is decided by the gate and
logged in the space as the connector's.

One sync (:meth:`Connectors.sync_account`):

1. the account is marked ``syncing`` (a second sync of the same account meanwhile
   does nothing; one stuck for :data:`STALE_MINUTES` — a dead process — is taken over);
2. the access token is refreshed if it expires within a minute (the new tokens are
   stored at once);
3. each batch the connector yields is written, **then** its cursor stored: a sync
   stopped at any point leaves whole batches and a cursor that does not go past them;
4. the outcome becomes the account's state: ``ok`` (next sync in
   ``connector_sync_minutes``), ``needs_reauthorization`` (no retry until the citizen
   consents again), or ``failing`` with a reason code, a message in French and English,
   the count of failed attempts and the next retry (exponential backoff with jitter,
   at least the provider's ``Retry-After``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import random
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from selfdata.access import Actor, Gate, SpaceView
from selfdata.access import connectors as accounts
from selfdata.access.connectors import AccountState
from selfdata.connectors.base import (
    ConnectorConfig,
    ProviderError,
    ReauthorizationNeeded,
    SyncAccount,
    Tokens,
)
from selfdata.connectors.registry import ConnectorRegistry
from selfdata.connectors.writer import SyncWriter
from selfdata.errors import AccessDenied, InvalidInput, NotFound
from selfdata.settings import Settings

__all__ = ["STALE_MINUTES", "Connectors", "configs_from_settings"]

log = logging.getLogger(__name__)

STALE_MINUTES = 30
_RETRY_BASE_S = 300.0  # first retry of a failing account after about 5 minutes
_RETRY_CAP_S = 24 * 3600.0


def configs_from_settings(settings: Settings) -> dict[str, ConnectorConfig]:
    """Each ``[connectors."<name>"]`` table as a :class:`ConnectorConfig`. The client
    secret may come from ``SELFDATA_CONNECTOR_<NAME>_CLIENT_SECRET`` (name upper-cased,
    other characters as ``_``) so it need not be written in the file."""
    out: dict[str, ConnectorConfig] = {}
    for name, table in settings.connectors.items():
        env = "SELFDATA_CONNECTOR_" + re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_CLIENT_SECRET"
        urls = {k[: -len("_url")]: str(v) for k, v in table.items() if k.endswith("_url")}
        known = {"client_id", "client_secret", "redirect_uri", "timeout_s", "retries"}
        known |= {"backoff_s", "max_wait_s"}
        options = {k: str(v) for k, v in table.items() if k not in known and not k.endswith("_url")}
        out[name] = ConnectorConfig(
            client_id=str(table.get("client_id", "")),
            client_secret=os.environ.get(env) or str(table.get("client_secret", "")),
            redirect_uri=str(table.get("redirect_uri", "")),
            urls=urls,
            options=options,
            timeout_s=float(table.get("timeout_s", 30.0)),
            retries=int(table.get("retries", 3)),
            backoff_s=float(table.get("backoff_s", 1.0)),
            max_wait_s=float(table.get("max_wait_s", 60.0)),
        )
    return out


@dataclass(frozen=True, slots=True)
class Available:
    name: str
    description: Mapping[str, str]
    doctypes: tuple[str, ...]
    configured: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": dict(self.description),
            "doctypes": list(self.doctypes),
            "configured": self.configured,
        }


class Connectors:
    def __init__(
        self, gate: Gate, settings: Settings, registry: ConnectorRegistry | None = None
    ) -> None:
        self.gate = gate
        self.settings = settings
        self.registry = registry or ConnectorRegistry.discover(configs_from_settings(settings))

    # -- what exists ---------------------------------------------------------------------

    def available(self) -> list[Available]:
        return [
            Available(c.name, c.description, c.doctypes, self.registry.config(c.name).configured)
            for c in self.registry
        ]

    # -- linking an account (the citizen) ---------------------------------------------------

    def begin_authorization(self, view: SpaceView, name: str) -> str:
        """The provider's consent URL; the ``state`` it carries is remembered (hashed)
        in the citizen's space, with the PKCE verifier when the provider takes one."""
        connector = self.registry.create(name)
        connector.http.close()  # no call to the provider here: only its URL is built
        if not connector.config.configured:
            raise InvalidInput(
                f"the operator has not configured the {name} connector (client id and "
                "secret): see docs/connectors.md"
            )
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48) if connector.supports_pkce else None
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .decode()
            .rstrip("=")
            if verifier
            else None
        )
        accounts.begin_link(
            view, name, connector.doctypes, _hash(state), {"code_verifier": verifier}
        )
        return connector.authorization_url(state, challenge)

    def complete_authorization(
        self, view: SpaceView, name: str, code: str, state: str, params: Mapping[str, str]
    ) -> AccountState:
        """The provider sent the citizen back: check the state, exchange the code, link."""
        account_id, pending = accounts.pending_link(view, name, _hash(state))
        connector = self.registry.create(name)
        try:
            grant = connector.exchange_code(code, params, pending.get("code_verifier"))
        finally:
            connector.http.close()
        secret = {"tokens": grant.tokens.as_dict(), "external_id": grant.external_id}
        return accounts.finish_link(view, account_id, secret, grant.label)

    def accounts(self, view: SpaceView) -> list[AccountState]:
        return accounts.list_accounts(view)

    def account(self, view: SpaceView, account_id: str) -> AccountState:
        return accounts.get_account(view, account_id)

    def delete(self, view: SpaceView, account_id: str) -> None:
        accounts.delete_account(view, account_id)

    # -- syncing ---------------------------------------------------------------------------

    def sync_for(self, view: SpaceView, account_id: str) -> AccountState:
        """A sync the citizen asked for (the account must be one of theirs)."""
        state = accounts.get_account(view, account_id)
        if state.status == "needs_reauthorization":
            return state
        return self.sync_account(view.space_id, account_id) or accounts.get_account(
            view, account_id
        )

    def sync_due(self) -> int:
        """Sync every account whose time has come; returns how many ran."""
        now_ms = to_ms(self.gate.clock.now())
        ran = 0
        for space_id, account_id in accounts.due_accounts(
            self.gate.engine, now_ms, now_ms - STALE_MINUTES * 60_000
        ):
            try:
                if self.sync_account(space_id, account_id) is not None:
                    ran += 1
            except Exception:  # one account's failure must not stop the others
                log.exception("sync of connector account %s failed", account_id)
        return ran

    def sync_account(self, space_id: str, account_id: str) -> AccountState | None:
        """Run one sync of the account as the account itself; None when another sync
        of it is running."""
        view = SpaceView(self.gate, Actor("connector", account_id, space_id), space_id)
        stale_ms = to_ms(self.gate.clock.now() - timedelta(minutes=STALE_MINUTES))
        loaded = accounts.load_for_sync(view, stale_ms)
        if loaded is None:
            return None
        state, secret = loaded
        view = SpaceView(
            self.gate, Actor("connector", account_id, space_id, label=state.connector), space_id
        )
        try:
            connector = self.registry.create(state.connector)
        except NotFound as exc:
            return self._failed(view, state, "connector-unavailable", {"en": exc.detail})
        try:
            return self._run(view, state, secret, connector)
        except ReauthorizationNeeded as exc:
            return accounts.record_sync(
                view,
                status="needs_reauthorization",
                next_sync_ms=None,
                reason=exc.reason,
                message=exc.message,
                succeeded=False,
            )
        except ProviderError as exc:
            return self._failed(view, state, exc.reason, exc.message, exc.retry_after)
        except InvalidInput as exc:  # the provider's data does not fit the doctype
            return self._failed(view, state, "invalid-data", {"en": exc.detail})
        except AccessDenied as exc:
            # The citizen restricted processing meanwhile: say so in the account's state
            # (unless the restriction covers the account itself: then nothing may be
            # recorded, and the refusal goes up).
            message = {"en": exc.detail, "fr": _RESTRICTED_FR}
            return self._failed(view, state, exc.reason, message)
        except Exception:
            self._failed(view, state, "internal-error", _INTERNAL)
            raise
        finally:
            connector.http.close()

    def _run(
        self, view: SpaceView, state: AccountState, secret: dict[str, Any], connector: Any
    ) -> AccountState:
        def renew() -> Tokens:
            renewed: Tokens = connector.refresh(account.tokens)
            accounts.save_tokens(view, renewed.as_dict())
            return renewed

        account = SyncAccount(
            state.id,
            str(secret["external_id"]),
            Tokens.from_dict(secret["tokens"]),
            self.gate.clock.now(),
            renewer=renew,
        )
        if account.tokens.expires_at <= time.time() + 60:
            account.renew()
        fingerprint = view.fingerprint_file([f"connector-account:{state.id}".encode()])
        source = view.register_source(
            "connector",
            {"connector": state.connector, "version": connector.version, "account": state.id},
            fingerprint=fingerprint,
        )
        writer = SyncWriter(view, source.id)
        for batch in connector.sync(account, state.cursor):
            writer.write(batch.items)
            accounts.save_cursor(view, batch.cursor, points=writer.counts.points_gained)
        interval_min = self.settings.connector_sync_minutes or 24 * 60
        return accounts.record_sync(
            view,
            status="ok",
            next_sync_ms=to_ms(self.gate.clock.now() + timedelta(minutes=interval_min)),
            succeeded=True,
            counts=writer.counts.as_dict(),
        )

    def _failed(
        self,
        view: SpaceView,
        state: AccountState,
        reason: str,
        message: Mapping[str, str],
        retry_after: float | None = None,
    ) -> AccountState:
        delay = min(_RETRY_CAP_S, _RETRY_BASE_S * 2**state.attempts)
        delay *= random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not a secret
        delay = max(delay, retry_after or 0.0)
        return accounts.record_sync(
            view,
            status="failing",
            next_sync_ms=to_ms(self.gate.clock.now() + timedelta(seconds=delay)),
            reason=reason,
            message={"fr": message.get("fr", message.get("en", "")), "en": message.get("en", "")},
            succeeded=False,
        )


_RESTRICTED_FR = (
    "vous avez limité le traitement de ces données : la synchronisation reprendra quand "
    "vous lèverez la limitation"
)
_INTERNAL = {
    "fr": "erreur interne pendant la synchronisation ; l'opérateur en a la trace",
    "en": "internal error during the sync; the operator's logs have the details",
}


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _hash(state: str) -> bytes:
    return hashlib.sha256(state.encode()).digest()
