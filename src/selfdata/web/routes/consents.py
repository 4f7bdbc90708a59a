"""The citizen's side of consent: the catalogue, notices, grants, withdrawal, receipts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, status
from fastapi.responses import PlainTextResponse

from selfdata.consent import ConsentRecord, build_notice
from selfdata.errors import NotFound
from selfdata.services import Manifest
from selfdata.web.auth import CitizenView, DataView, PlatformDep
from selfdata.web.params import require_json
from selfdata.web.problems import problem_responses
from selfdata.web.responses import JSONResponse

__all__ = ["router"]

router = APIRouter(tags=["consent"])


def _consent_out(record: ConsentRecord, receipt: str | None = None) -> dict[str, Any]:
    out = {
        "id": record.id,
        "service_id": record.service_id,
        "service_name": record.service_name,
        "status": record.status,
        "given_at": record.given_at,
        "expires_at": record.expires_at,
        "notice_id": record.notice_id,
        "notice_hash": record.notice_hash,
        "grants": [
            {
                "request_id": g.request_id,
                "doctypes": list(g.doctypes),
                "operations": list(g.operations),
                "data_period_days": g.window_days,
                "purposes": list(g.purposes),
            }
            for g in record.grants
        ],
        "history": [
            {"state": h.state, "at": h.at, "by": h.by, "note": h.note} for h in record.history
        ],
        "record": record.iso27560(),
    }
    if receipt is not None:
        out["receipt"] = receipt
    return out


@router.get(
    "/services",
    summary="The catalogue of approved services, with their notices",
    responses=problem_responses(401),
)
def catalogue(
    view: CitizenView,
    platform: PlatformDep,
    lang: Annotated[str, Query(pattern="^(fr|en)$")] = "fr",
) -> JSONResponse:
    items = []
    for info in platform.services.list("approved"):
        notice = build_notice(info.manifest, platform.doctypes)
        items.append(
            {
                "id": info.id,
                "version": info.manifest.version,
                "mode": info.manifest.mode,
                "notice": notice.as_dict(lang),
            }
        )
    return JSONResponse({"items": items})


@router.get(
    "/schemas/service-manifest.json",
    summary="The JSON Schema service manifests are validated against (public)",
)
def manifest_schema() -> JSONResponse:
    return JSONResponse(
        Manifest.json_schema_document(), headers={"Cache-Control": "public, max-age=300"}
    )


@router.get(
    "/services/{service_id}/notice",
    summary="The notice to read before consenting",
    responses=problem_responses(401, 404),
)
def notice(
    service_id: str,
    view: CitizenView,
    platform: PlatformDep,
    lang: Annotated[str, Query(pattern="^(fr|en)$")] = "fr",
) -> JSONResponse:
    info = platform.services.get(service_id)
    if info.status != "approved":
        raise NotFound(f"no approved service {service_id!r}")
    return JSONResponse(build_notice(info.manifest, platform.doctypes).as_dict(lang))


@router.post(
    "/consents",
    status_code=status.HTTP_201_CREATED,
    summary="Give a consent to a service (all its requests, or the ones listed)",
    responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
    dependencies=[Depends(require_json)],
)
def give(
    view: CitizenView,
    platform: PlatformDep,
    body: Annotated[
        dict[str, Any],
        Body(
            openapi_examples={
                "partial": {
                    "summary": "Some requests",
                    "value": {
                        "service_id": "energy-coach",
                        "requests": ["load-curve"],
                        "duration": "P6M",
                    },
                }
            }
        ),
    ],
) -> JSONResponse:
    service_id = body.get("service_id")
    if not isinstance(service_id, str):
        from selfdata.errors import FieldError, ValidationFailed

        raise ValidationFailed(
            "service_id is required", [FieldError(("service_id",), "expected a service id")]
        )
    requests = body.get("requests")
    record = view.give_consent(
        platform.services.get(service_id),
        list(requests) if isinstance(requests, list) else None,
        duration=body.get("duration") if isinstance(body.get("duration"), str) else None,
        method="api",
        language="en" if body.get("language") == "en" else "fr",
    )
    return JSONResponse(
        _consent_out(record, platform.receipt(record)), status_code=status.HTTP_201_CREATED
    )


@router.get(
    "/consents",
    summary="Your consents, newest first (expired ones marked)",
    responses=problem_responses(401),
)
def list_consents(view: CitizenView) -> JSONResponse:
    return JSONResponse({"items": [_consent_out(r) for r in view.consents()]})


@router.get(
    "/consents/{consent_id}",
    summary="One consent, with its signed receipt",
    responses=problem_responses(401, 404),
)
def one(consent_id: str, view: CitizenView, platform: PlatformDep) -> JSONResponse:
    record = view.consent(consent_id)
    return JSONResponse(_consent_out(record, platform.receipt(record)))


@router.get(
    "/consents/{consent_id}/receipt",
    response_class=PlainTextResponse,
    summary="The signed receipt (compact JWS, verify with /.well-known/jwks.json)",
    responses=problem_responses(401, 404),
)
def receipt(consent_id: str, view: CitizenView, platform: PlatformDep) -> PlainTextResponse:
    return PlainTextResponse(
        platform.receipt(view.consent(consent_id)), media_type="application/jose"
    )


@router.post(
    "/consents/{consent_id}/withdraw",
    summary="Withdraw: the service's next request is refused, its tokens revoked",
    responses=problem_responses(401, 403, 404, 409),
)
def withdraw(consent_id: str, view: CitizenView, platform: PlatformDep) -> JSONResponse:
    record = view.withdraw_consent(consent_id)
    return JSONResponse(_consent_out(record, platform.receipt(record)))


@router.post(
    "/consents/{consent_id}/renew",
    summary="Renew for the service's consent duration",
    responses=problem_responses(401, 403, 404, 409),
)
def renew(consent_id: str, view: CitizenView, platform: PlatformDep) -> JSONResponse:
    current = view.consent(consent_id)
    record = view.renew_consent(consent_id, platform.services.get(current.service_id))
    return JSONResponse(_consent_out(record, platform.receipt(record)))


@router.get(
    "/service/consent",
    summary="For a service: the consent its token acts under, and its receipt",
    responses=problem_responses(401, 403),
)
def own_consent(view: DataView, platform: PlatformDep) -> JSONResponse:
    record = view.own_consent()
    return JSONResponse(_consent_out(record, platform.receipt(record)))
