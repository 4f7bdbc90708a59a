"""The composition root: builds an instance's parts from its settings, in one place.

Interfaces (CLI, HTTP API, web app, tests, benchmarks) get a :class:`Platform` and
use its capabilities; nothing else wires adapters together.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from selfdata.access import Actor, Gate, SpaceView
from selfdata.blobs import LocalBlobStore
from selfdata.clock import Clock, SystemClock
from selfdata.connectors import Connectors
from selfdata.consent import ConsentRecord, make_receipt
from selfdata.crypto import EnvKeyProvider, KeyFileProvider, KeyProvider
from selfdata.crypto.keyring import ENV_VAR
from selfdata.crypto.signing import ENV_VAR as SIGNING_ENV
from selfdata.crypto.signing import OperatorSigner
from selfdata.db import create_engine_for, current_revision, head_revision, upgrade
from selfdata.doctypes import DoctypeRegistry, default_registry
from selfdata.energy import reference as energy_reference
from selfdata.errors import ConfigurationError
from selfdata.oauth import OAuthServer
from selfdata.questions.pool import WorkerPool
from selfdata.questions.runner import QuestionRunner
from selfdata.services.registry import ServiceRegistry
from selfdata.settings import CONFIG_NAME, Settings
from selfdata.spaces import PasswordHasher, SessionStore, SpaceDirectory
from selfdata.spaces.move import Moves

__all__ = ["Platform", "init_instance"]


def _key_provider(settings: Settings) -> KeyProvider:
    env = os.environ.get(ENV_VAR)
    return EnvKeyProvider(env) if env else KeyFileProvider(settings.key_file)


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    gate: Gate
    directory: SpaceDirectory
    sessions: SessionStore
    doctypes: DoctypeRegistry
    clock: Clock
    services: ServiceRegistry
    oauth: OAuthServer
    _questions: QuestionRunner | None = None
    _connectors: Connectors | None = None

    @property
    def signer(self) -> OperatorSigner:
        return self.gate.signer

    def receipt(self, record: ConsentRecord) -> str:
        """The signed receipt of a consent record (same for citizen and service)."""
        return make_receipt(record, self.signer, self.clock.now(), self.settings.public_url)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        key_provider: KeyProvider | None = None,
        clock: Clock | None = None,
        migrate: bool = False,
    ) -> Platform:
        """Open an existing instance (``migrate`` brings its schema up to date first)."""
        engine = create_engine_for(settings.database_url)
        if migrate:
            upgrade(engine)
        else:
            current, head = current_revision(engine), head_revision()
            if current != head:
                engine.dispose()
                raise ConfigurationError(
                    f"the database schema is at {current or 'nothing'}, "
                    f"this selfdata needs {head}; "
                    "run `selfdata init` (new instance) or `selfdata upgrade`"
                )
        clock = clock or SystemClock()
        doctypes = default_registry()
        gate = Gate(
            engine,
            key_provider or _key_provider(settings),
            LocalBlobStore(settings.blob_dir),
            doctypes,
            clock,
            settings,
            OperatorSigner.load(settings.signing_key_file),
        )
        gate.keyring()  # fail now, clearly, if the master key is missing or unreadable
        hasher = PasswordHasher(settings.argon2_profile)
        services = ServiceRegistry(engine, clock, doctypes.names())
        energy_reference.configure(settings.home)  # tariffs, degree-days: <home>/reference
        return cls(
            settings=settings,
            engine=engine,
            gate=gate,
            directory=SpaceDirectory(engine, gate, hasher, clock, settings),
            sessions=SessionStore(engine, clock),
            services=services,
            oauth=OAuthServer(engine, services, clock),
            doctypes=doctypes,
            clock=clock,
        )

    @property
    def moves(self) -> Moves:
        """Moving spaces directly between instances (docs/move.md)."""
        return Moves(self.engine, self.gate, self.directory, self.settings)

    def view(self, actor: Actor, space_id: str, purpose: str | None = None) -> SpaceView:
        return SpaceView(self.gate, actor, space_id, purpose)

    def citizen_view(self, space_name: str) -> SpaceView:
        """The space as its own citizen sees it (CLI commands the citizen runs locally)."""
        space = self.directory.get_space(space_name)
        account = self.directory.account_for_space(space.id)
        # Labelled so the citizen's log shows these accesses came from the command line.
        label = f"{account.username} (command line)"
        return self.view(Actor.citizen(account.id, space.id, label), space.id)

    @property
    def connectors(self) -> Connectors:
        """Connector accounts and their syncs (docs/connectors.md)."""
        if self._connectors is None:
            self._connectors = Connectors(self.gate, self.settings)
        return self._connectors

    @property
    def questions(self) -> QuestionRunner:
        """Compute-to-data questions (docs/services.md); its worker pool starts lazily."""
        if self._questions is None:
            limits = self.settings.limits
            pool = WorkerPool(
                limits.question_workers,
                timeout_s=limits.question_seconds,
                memory_mb=limits.question_memory_mb,
            )
            self._questions = QuestionRunner(self.services, self.services.builtins, pool=pool)
        return self._questions

    def close(self) -> None:
        if self._questions is not None:
            self._questions.close()
        self.engine.dispose()


def init_instance(
    home: Path, *, database_url: str | None = None, create: bool = True
) -> tuple[Settings, bool]:
    """Create the instance folder, its settings, master key and schema.

    Idempotent: on an existing instance it only migrates. Returns the settings and
    whether a new master key was created."""
    home = home.expanduser()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(home, 0o700)
    overrides = {"database_url": database_url} if database_url else {}
    settings = Settings.for_home(home, **overrides)
    config = settings.home / CONFIG_NAME
    if not config.exists():
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(settings.to_toml())
    created_key = False
    if not os.environ.get(ENV_VAR) and not settings.key_file.exists():
        if not create:
            # A missing master key on an existing instance is an incident, not a set-up
            # step: a new key would silently make every space unreadable.
            raise ConfigurationError(
                f"no master key at {settings.key_file} (and {ENV_VAR} is not set): restore "
                "the key from your backup; `selfdata upgrade` never creates one"
            )
        KeyFileProvider(settings.key_file).create()
        created_key = True
    if not os.environ.get(SIGNING_ENV) and not settings.signing_key_file.exists():
        if not create:
            # Receipts and checkpoints already handed out name the old key: a new one
            # would make them unverifiable against what the instance publishes.
            raise ConfigurationError(
                f"no signing key at {settings.signing_key_file} (and {SIGNING_ENV} is not set): "
                "restore it from your backup; `selfdata upgrade` never creates one"
            )
        OperatorSigner.create_file(settings.signing_key_file)
    settings.blob_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = create_engine_for(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return settings, created_key
