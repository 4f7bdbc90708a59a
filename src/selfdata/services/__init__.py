"""Services: manifests, the DPV purpose vocabulary, the operator's registry."""

from selfdata.services.manifest import DataRequest, Manifest, load_manifest, parse_duration
from selfdata.services.purposes import LEGAL_BASES, PURPOSES
from selfdata.services.registry import ServiceInfo, ServiceRegistry

__all__ = [
    "LEGAL_BASES",
    "PURPOSES",
    "DataRequest",
    "Manifest",
    "ServiceInfo",
    "ServiceRegistry",
    "load_manifest",
    "parse_duration",
]
