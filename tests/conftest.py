"""Fixtures: real SQLite and real PostgreSQL instances, real keys, a controllable clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from selfdata.access import Actor, SpaceView
from selfdata.clock import FixedClock
from selfdata.db import create_engine_for, upgrade
from selfdata.platform import Platform, init_instance
from tests.support.postgres import PostgresCluster, find_pg_bin

PASSWORD = "correct horse battery staple"

os.environ.setdefault("SELFDATA_ARGON2_PROFILE", "test")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-postgres",
        action="store_true",
        help="skip the PostgreSQL half of the store tests (CI never sets this)",
    )


@pytest.fixture(scope="session")
def pg_cluster(request: pytest.FixtureRequest) -> Iterator[PostgresCluster]:
    if request.config.getoption("--no-postgres"):
        pytest.skip("PostgreSQL tests disabled with --no-postgres")
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise RuntimeError(
            "PostgreSQL binaries not found: run scripts/setup.sh (it installs postgresql-15)"
        )
    cluster = PostgresCluster(bin_dir)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_cluster: PostgresCluster) -> str:
    """A migrated database that each test's database is cloned from."""
    name = pg_cluster.create_database()
    engine = create_engine_for(pg_cluster.sqlalchemy_url(name))
    upgrade(engine)
    engine.dispose()
    return name


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'selfdata.db'}"
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    template: str = request.getfixturevalue("pg_template")
    return cluster.sqlalchemy_url(cluster.create_database(template))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def platform(home: Path, database_url: str, clock: FixedClock) -> Iterator[Platform]:
    """A fresh instance on each database engine."""
    settings, _ = init_instance(home, database_url=database_url)
    instance = Platform.open(settings, clock=clock)
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def sqlite_platform(tmp_path: Path, clock: FixedClock) -> Iterator[Platform]:
    """An instance on SQLite only (tests about files on disk)."""
    settings, _ = init_instance(tmp_path / "home")
    instance = Platform.open(settings, clock=clock)
    try:
        yield instance
    finally:
        instance.close()


OPERATOR = Actor.cli_operator()


def make_space(platform: Platform, name: str = "alice") -> SpaceView:
    """A new space and the view its citizen has of it."""
    platform.directory.create_space(name, PASSWORD, OPERATOR)
    return platform.citizen_view(name)
