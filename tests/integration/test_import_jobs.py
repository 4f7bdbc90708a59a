"""The import job manager without HTTP: states, ownership, spools deleted, limits,
expiry, shutdown."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from selfdata.access import Actor
from selfdata.crypto.spool import EncryptedSpool
from selfdata.errors import Conflict, NotFound
from selfdata.importers.jobs import ImportJob, ImportJobs, TooManyImports
from selfdata.platform import Platform
from tests.conftest import make_space

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "enedis"
MARCH = (SAMPLE / "load_curve_dst_march_utf8bom.csv").read_bytes()

pytestmark = pytest.mark.timeout(60)


def spool_of(data: bytes) -> EncryptedSpool:
    spool = EncryptedSpool()
    spool.write(data)
    spool.finish()
    return spool


def wait(jobs: ImportJobs, job: ImportJob) -> None:
    deadline = time.monotonic() + 30
    while not job.finished:
        assert time.monotonic() < deadline
        jobs.wait(job, job.version, 0.5)


def test_a_job_runs_as_its_actor_and_deletes_its_spool(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    jobs = ImportJobs()
    try:
        spool = spool_of(MARCH)
        job = jobs.submit(view, spool, "march.csv")
        wait(jobs, job)
        assert job.state == "done" and job.report is not None
        assert job.report.points_gained == 2 * 48 - 2
        assert spool.closed
        assert jobs.get(view, job.id) is job
        # Another actor of the same space (an operator's view, say) does not see it.
        other = sqlite_platform.view(Actor.citizen("someone-else", view.space_id), view.space_id)
        with pytest.raises(NotFound):
            jobs.get(other, job.id)
        assert jobs.jobs(other) == []
        # The writes were the citizen's, in the log.
        events = [e.as_dict() for e in view.access_log(limit=200)]
        writes = [e for e in events if e["action"] == "write"]
        assert writes and all(e["actor_id"] == view.actor.id for e in writes)
    finally:
        jobs.shutdown()


def test_pending_limit_shutdown_and_expiry(sqlite_platform: Platform) -> None:
    alice, bob = make_space(sqlite_platform, "alice"), make_space(sqlite_platform, "bob")
    now = [0.0]
    # No worker: the jobs stay queued, which makes the limits observable.
    jobs = ImportJobs(workers=0, pending_per_space=2, keep_seconds=60, monotonic=lambda: now[0])
    first = jobs.submit(alice, spool_of(MARCH), "a.csv")
    jobs.submit(alice, spool_of(MARCH), "b.csv")
    refused = spool_of(MARCH)
    with pytest.raises(TooManyImports, match="at most 2"):
        jobs.submit(alice, refused, "c.csv")
    assert refused.closed  # a refused upload is deleted at once
    jobs.submit(bob, spool_of(MARCH), "b.csv")  # the limit is per space
    assert [j.state for j in jobs.jobs(alice)] == ["queued", "queued"]

    jobs.shutdown()
    assert first.state == "failed" and first.error is not None
    assert first.error["code"] == "interrupted" and first.spool.closed
    late = spool_of(MARCH)
    with pytest.raises(Conflict, match="stopping"):
        jobs.submit(alice, late, "late.csv")
    assert late.closed

    now[0] = 59.0
    assert jobs.get(alice, first.id) is first
    now[0] = 61.0  # finished jobs are forgotten after keep_seconds
    assert jobs.jobs(alice) == []
    with pytest.raises(NotFound):
        jobs.get(alice, first.id)
