"""Audit log endpoints (Admins): the log, searched and paged; one entry with its before/after; the CSV export."""
from __future__ import annotations

import re

from backend.api.http import ApiRequest, ApiResponse
from backend.services.platform import audit_log
from backend.services.platform.access import Actor

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def _filters(request: ApiRequest) -> dict:
    query = request.query
    return {
        "user": query.get("user") or None,
        "action": query.get("action") or None,
        "resource_type": query.get("resourceType") or None,
        "resource_id": query.get("resourceId") or None,
        "start": query.get("start") or None,
        "end": query.get("end") or None,
    }


def search(actor: Actor, request: ApiRequest) -> ApiResponse:
    page = audit_log.search_audit(actor, **_filters(request), limit=request.int_param("limit", 50),
                                  next_token=request.query.get("nextToken") or None)
    return ApiResponse(200, page.to_api())


def read_entry(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, audit_log.get_entry(actor, request.path_params["entryId"]).to_api())


def export(actor: Actor, request: ApiRequest) -> ApiResponse:
    filters = _filters(request)
    text, count, complete = audit_log.export_audit_csv(actor, **filters, max_rows=request.int_param("maxRows", audit_log.EXPORT_MAX))
    stamp = re.sub(r"[^0-9-]", "", request.query.get("end") or "") or "latest"  # a checked date: digits and dashes
    name = f"audit-{stamp}.csv"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Audit-Rows": str(count),
        "X-Audit-Complete": "true" if complete else "false",
    }
    return ApiResponse(200, text, media_type=CSV_MEDIA_TYPE, headers=headers)
