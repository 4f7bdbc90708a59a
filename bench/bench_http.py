"""Consent-checked, audited reads by a service over HTTP on loopback (issue 3 targets).

A service holding a consent-bound OAuth token reads single records
(``GET /api/v1/records/energy.meter/{id}``) from a real uvicorn server; a load
generator in another process keeps several requests in flight. The same records are
also read through a benchmark-only route that skips the authorisation point and the
audit log (store read with cached keys, same JSON answer), to state what check + audit
cost at the HTTP level.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import uvicorn
from fastapi.responses import JSONResponse

from _common import Config, Figure, Target, expect, instance
from selfdata.oauth import CitizenGrant
from selfdata.services import load_manifest
from selfdata.store import records as record_store
from selfdata.web import create_app

__all__ = ["run"]

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "examples" / "services" / "energy-coach.yaml"
RPS_TARGET = Target(">=", 1000)
P99_TARGET = Target("<", 20)
CONCURRENCY = 8


_WRK_SCRIPT = """
local paths = {%s}
local i = 0
%s
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%f %%f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def _wrk(urls: list[str], headers: dict[str, str], seconds: float) -> dict[str, Any]:
    """wrk (C, one thread): the server gets the other core to itself."""
    base = urls[0].split("/", 3)[:3]
    paths = ", ".join(json.dumps("/" + u.split("/", 3)[3]) for u in urls)
    header_lines = "\n".join(
        f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % (paths, header_lines))
    try:
        done = subprocess.run(
            [  # noqa: S607 - wrk is looked up on PATH on purpose (shutil.which above)
                "wrk",
                "-t1",
                f"-c{CONCURRENCY}",
                f"-d{int(seconds)}s",
                "-s",
                script.name,
                "/".join(base),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        )
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    count, errors, micros, p50, p99 = line.split()[1:]
    return {
        "count": int(count),
        "errors": int(errors),
        "seconds": int(micros) / 1e6,
        "p50": float(p50),
        "p99": float(p99),
        "tool": "wrk",
    }


def _load(urls: list[str], headers: dict[str, str], seconds: float) -> dict[str, Any]:
    if shutil.which("wrk"):
        return _wrk(urls, headers, seconds)
    job = json.dumps(
        {"urls": urls, "headers": headers, "seconds": seconds, "concurrency": CONCURRENCY}
    )
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("_load.py"))],
        input=job,
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 120,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    result["p50"] = statistics.median(result["latencies_ms"])
    result["p99"] = _p99(result["latencies_ms"])
    result["tool"] = "python httpx"
    return result


def _p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98]


def run(config: Config) -> list[Figure]:
    seconds = 3.0 if config.quick else 8.0
    with instance(config) as bench:
        platform = bench.platform
        view = bench.new_space("http")
        meters = [
            {
                "kind": "electricity",
                "provider": "Enedis",
                "meter_id": f"{10**13 + i:014d}",
                "unit": "Wh",
                "reading_type": "load_curve",
            }
            for i in range(200)
        ]
        ids = view.put_records("energy.meter", meters).ids
        platform.services.register(load_manifest(MANIFEST))
        info = platform.services.approve("energy-coach")
        consent = view.give_consent(info, ["load-curve"])
        token = "sdo_" + secrets.token_urlsafe(32)
        platform.oauth.save_token(
            {"access_token": token, "expires_in": 3600, "scope": "load-curve"},
            SimpleNamespace(
                user=CitizenGrant("bench", view.space_id, consent.id, "load-curve"),
                client=SimpleNamespace(get_client_id=lambda: "energy-coach"),
            ),
        )
        app = create_app(platform)
        with platform.engine.connect() as conn:
            keys = platform.gate.keys.get(conn, view.space_id)

        @app.get("/bench/direct/{record_id}", include_in_schema=False)
        def direct(record_id: str) -> JSONResponse:
            # No check, no audit: the baseline the overhead is measured against.
            with platform.engine.connect() as conn:
                record = record_store.get_record(conn, keys, record_id, "energy.meter")
            return JSONResponse(record.as_dict())

        # IPPROTO_TCP given explicitly: asyncio sets TCP_NODELAY only on sockets that say
        # they are TCP; without it Nagle and delayed ACKs add 40 ms to every response.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        try:
            base = f"http://127.0.0.1:{port}"
            headers = {
                "Authorization": f"Bearer {token}",
                "Selfdata-Purpose": "dpv:ServiceProvision",
            }
            audited_urls = [f"{base}/api/v1/records/energy.meter/{i}" for i in ids]
            direct_urls = [f"{base}/bench/direct/{i}" for i in ids]
            _load(audited_urls[:20], headers, 1.0)  # warm-up
            audited = _cpu_timed(lambda: _load(audited_urls, headers, seconds))
            plain = _cpu_timed(lambda: _load(direct_urls, {}, seconds))
        finally:
            server.should_exit = True
            thread.join(10)
            sock.close()
        expect(audited["errors"] == 0 and plain["errors"] == 0, "some requests failed")
        logged = [e for e in view.access_log(limit=5) if e.event.actor_kind == "service"]
        expect(bool(logged) and logged[0].event.consent_id == consent.id, "reads were not audited")
    audited_rps = audited["count"] / audited["seconds"]
    plain_rps = plain["count"] / plain["seconds"]
    audited_cpu = audited["cpu_s"] / audited["count"] * 1e6
    plain_cpu = plain["cpu_s"] / plain["count"] * 1e6
    note = (
        f"{CONCURRENCY} in flight from {audited['tool']} in another process, {seconds:.0f} s, "
        f"{audited['count']:,} requests"
    )
    return [
        Figure("http.read_audited_rps", audited_rps, "requests/s", "throughput", RPS_TARGET, note),
        Figure(
            "http.read_audited_p50",
            audited["p50"],
            "ms",
            "median",
            None,
            note,
        ),
        Figure(
            "http.read_audited_p99",
            audited["p99"],
            "ms",
            "99th percentile",
            P99_TARGET,
            note,
        ),
        Figure(
            "http.read_direct_rps",
            plain_rps,
            "requests/s",
            "throughput",
            None,
            "same read, no check, no audit",
        ),
        Figure(
            "http.audit_overhead_ratio",
            plain_rps / audited_rps,
            "x",
            "time per request, audited / direct",
            Target("<", 1.2),
            "check + audit + its write transaction, over HTTP",
        ),
        Figure(
            "http.read_audited_cpu",
            audited_cpu,
            "µs CPU/req",
            "server process CPU time / requests",
            None,
            "the whole request: HTTP, token, check, read, audit, commit",
        ),
        Figure(
            "http.read_direct_cpu",
            plain_cpu,
            "µs CPU/req",
            "server process CPU time / requests",
            None,
            "same read, no check, no audit",
        ),
        Figure(
            "http.audit_overhead_ratio_cpu",
            audited_cpu / plain_cpu,
            "x",
            "server CPU per request, audited / direct",
            None,
            "less disturbed by other processes than the wall-clock ratio",
        ),
    ]


def _cpu_timed(load: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``load()``'s result with ``cpu_s``: the CPU seconds this process (the server's
    threads; the load generator is another process) used meanwhile."""
    before = time.process_time()
    result = load()
    result["cpu_s"] = time.process_time() - before
    return result
