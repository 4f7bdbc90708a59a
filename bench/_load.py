"""A load generator run in its own process (so it does not share the server's interpreter).

Reads a JSON job on stdin: {"urls": [...], "headers": {...}, "seconds": s,
"concurrency": c}; keeps ``c`` requests in flight over keep-alive connections for ``s``
seconds; prints {"count", "errors", "seconds", "latencies_ms": [...]} as JSON.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time

import httpx


async def main() -> None:
    job = json.loads(sys.stdin.read())
    urls = itertools.cycle(job["urls"])
    deadline = time.perf_counter() + job["seconds"]
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(
        max_connections=job["concurrency"], max_keepalive_connections=job["concurrency"]
    )
    async with httpx.AsyncClient(headers=job["headers"], limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                url = next(urls)
                start = time.perf_counter()
                response = await client.get(url)
                latencies.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(job["concurrency"])))
        elapsed = time.perf_counter() - began
    print(
        json.dumps(
            {
                "count": len(latencies),
                "errors": errors,
                "seconds": elapsed,
                "latencies_ms": latencies,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
