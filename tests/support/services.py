"""A registered, approved service for consent tests."""

from __future__ import annotations

from pathlib import Path

from selfdata.platform import Platform
from selfdata.services import ServiceInfo, load_manifest

EXAMPLE_MANIFEST = (
    Path(__file__).resolve().parents[2] / "examples" / "services" / "energy-coach.yaml"
)


def approved_service(platform: Platform) -> ServiceInfo:
    platform.services.register(load_manifest(EXAMPLE_MANIFEST))
    return platform.services.approve("energy-coach")
