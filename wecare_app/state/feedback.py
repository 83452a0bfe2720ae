"""Turning a domain error into what the user sees: one toast, naming the field when there is one."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError


def error_toast(error: DomainError):
    return rx.toast.error(error.message, close_button=True)


def field_errors(error: DomainError) -> dict[str, str]:
    """Per-field messages for forms: every detail, or the one field the error names."""
    if error.details:
        return {d["field"]: d["reason"] for d in error.details if d.get("field")}
    return {error.field: error.message} if error.field else {}
