"""Instance settings: where the instance lives and the bounds it enforces.

An instance is a folder (``SELFDATA_HOME`` or ``--home``) holding ``selfdata.toml``,
the SQLite database (unless a PostgreSQL URL is configured), the encrypted blob folder
and the master key file. Environment variables override the file, so a container can
be configured without writing to it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import platformdirs

from selfdata.errors import ConfigurationError

__all__ = ["CONFIG_NAME", "Limits", "Settings", "default_home"]

CONFIG_NAME = "selfdata.toml"


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds that keep one request from exhausting the instance."""

    max_json_bytes: int = 8 * 1024 * 1024
    max_file_bytes: int = 256 * 1024 * 1024
    max_batch_records: int = 10_000
    max_page_size: int = 1_000
    max_series_points: int = 5_000_000
    login_attempts_before_lock: int = 5
    login_lock_seconds: int = 300
    # Compute-to-data questions (docs/services.md §12): SQL worker processes, and what
    # one question may use in a worker (wall-clock seconds, DuckDB memory in MiB).
    question_workers: int = 2
    question_seconds: float = 5.0
    question_memory_mb: int = 256


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    database_url: str
    blob_dir: Path
    key_file: Path
    signing_key_file: Path
    public_url: str = "http://127.0.0.1:8000"  # issuer of receipts, checkpoints, OAuth
    timezone: str = "Europe/Paris"
    session_hours: int = 12
    token_days: int = 90
    threads: int = 0  # request threads per server process (0: 2 on SQLite, 40 on PostgreSQL)
    checkpoint_minutes: int = 60  # how often `selfdata serve` signs grown logs (0: never)
    connector_sync_minutes: int = 360  # how often connector accounts sync (0: never in serve)
    argon2_profile: str = "default"  # "default" (RFC 9106 second recommendation) or "test"
    self_signup: bool = True  # the web app offers "create my space" to anyone (laptop, demo)
    limits: Limits = field(default_factory=Limits)
    # [connectors."<name>"] tables: client_id, client_secret, urls… (docs/connectors.md)
    connectors: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def for_home(cls, home: Path, **overrides: Any) -> Settings:
        """Settings of the instance at ``home``: defaults < selfdata.toml < environment."""
        home = home.expanduser().resolve()
        values: dict[str, Any] = {
            "home": home,
            "database_url": f"sqlite:///{home / 'selfdata.db'}",
            "blob_dir": home / "blobs",
            "key_file": home / "master.key",
            "signing_key_file": home / "signing.key",
        }
        config = home / CONFIG_NAME
        if config.exists():
            try:
                data = tomllib.loads(config.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigurationError(f"{config}: {exc}") from None
            values.update(_from_mapping(data, str(config), home))
        env = {
            "database_url": os.environ.get("SELFDATA_DATABASE_URL"),
            "timezone": os.environ.get("SELFDATA_TIMEZONE"),
            "argon2_profile": os.environ.get("SELFDATA_ARGON2_PROFILE"),
            "public_url": os.environ.get("SELFDATA_PUBLIC_URL"),
        }
        values.update({k: v for k, v in env.items() if v})
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def to_toml(self) -> str:
        """The settings an operator may edit, as written by ``selfdata init``."""
        lines = [
            "# selfdata instance settings; environment variables SELFDATA_* override these.",
            f'database_url = "{self.database_url}"',
            f'timezone = "{self.timezone}"',
            f'public_url = "{self.public_url}"',
            f"session_hours = {self.session_hours}",
            f"checkpoint_minutes = {self.checkpoint_minutes}",
            f"token_days = {self.token_days}",
            f"self_signup = {str(self.self_signup).lower()}",
            "",
            "[limits]",
        ]
        lines += [f"{k} = {v}" for k, v in asdict(self.limits).items()]
        return "\n".join(lines) + "\n"


def _from_mapping(data: dict[str, Any], origin: str, home: Path) -> dict[str, Any]:
    known = {
        "checkpoint_minutes",
        "connector_sync_minutes",
        "threads",
        "database_url",
        "timezone",
        "session_hours",
        "token_days",
        "argon2_profile",
        "public_url",
        "self_signup",
    }
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "limits":
            try:
                out["limits"] = Limits(**value)
            except TypeError as exc:
                raise ConfigurationError(f"{origin}: [limits]: {exc}") from None
        elif key == "connectors":
            if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
                raise ConfigurationError(
                    f'{origin}: [connectors."<name>"] tables expected (docs/connectors.md)'
                )
            out["connectors"] = value
        elif key in known:
            out[key] = value
        elif key in {"blob_dir", "key_file", "signing_key_file"}:
            out[key] = home / Path(value).expanduser()  # a relative path is within home
        else:
            raise ConfigurationError(f"{origin}: unknown setting {key!r}")
    return out


def default_home() -> Path:
    """``SELFDATA_HOME`` if set, else the per-user data folder."""
    env = os.environ.get("SELFDATA_HOME")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("selfdata", appauthor=False))
