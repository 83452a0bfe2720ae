"""Bulk campaign endpoints (the bulk-job-control function): create, list, read, change, delete a job, and a
job's recipients."""
from __future__ import annotations

from backend.api.http import ApiRequest, ApiResponse
from backend.services.campaigns import jobs
from backend.services.platform.access import Actor


def create(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(201, jobs.create_job(actor, request.json()).to_api())


def list_jobs(actor: Actor, request: ApiRequest) -> ApiResponse:
    page = jobs.list_jobs(actor, status=request.query.get("status") or None, limit=request.int_param("limit", 25),
                          next_token=request.query.get("nextToken") or None)
    return ApiResponse(200, page.to_api())


def read(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, jobs.get_job(actor, request.path_params["jobId"]).to_api())


def change(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, jobs.change_job(actor, request.path_params["jobId"], request.json()).to_api())


def delete(actor: Actor, request: ApiRequest) -> ApiResponse:
    jobs.delete_job(actor, request.path_params["jobId"])
    return ApiResponse(204)


def recipients(actor: Actor, request: ApiRequest) -> ApiResponse:
    page = jobs.list_recipients(actor, request.path_params["jobId"], status=request.query.get("status") or None,
                                limit=request.int_param("limit", 50), next_token=request.query.get("nextToken") or None)
    return ApiResponse(200, page.to_api())
