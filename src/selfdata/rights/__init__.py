"""The citizen's rights over their space (GDPR art. 15–21), as pure helpers.

- :mod:`selfdata.rights.summary` — the right of access in words (French, English);
- :mod:`selfdata.rights.certificate` — signed erasure certificates and their check.

The operations themselves (rectification with history, restriction, withdrawal of
every consent, partial and whole erasure) go through the authorisation point:
``SpaceView`` methods (``selfdata.access.rights``) and ``SpaceDirectory.erase_certified``.
"""

from selfdata.rights.certificate import (
    ERASURE_TYP,
    ErasureScope,
    ErasureStatement,
    make_certificate,
    verify_certificate,
)
from selfdata.rights.summary import Holding, Lang, Origin, ServiceActivity, build_summary

__all__ = [
    "ERASURE_TYP",
    "ErasureScope",
    "ErasureStatement",
    "Holding",
    "Lang",
    "Origin",
    "ServiceActivity",
    "build_summary",
    "make_certificate",
    "verify_certificate",
]
