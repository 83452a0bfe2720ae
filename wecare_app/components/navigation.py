"""The 10 product modules and their pages, and which roles see each entry."""
from __future__ import annotations

from dataclasses import dataclass

ALL_ROLES = ("Viewer", "Operator", "Admin")
WRITERS = ("Operator", "Admin")
ADMINS = ("Admin",)


@dataclass(frozen=True)
class NavEntry:
    label: str
    href: str
    roles: tuple[str, ...] = ALL_ROLES
    ready: bool = False  # False: the page of a capability not built yet; the sidebar leaves it out until it arrives


@dataclass(frozen=True)
class NavModule:
    label: str
    icon: str
    entries: tuple[NavEntry, ...]


NAV_MODULES: tuple[NavModule, ...] = (
    NavModule("Dashboard", "layout-dashboard", (NavEntry("Overview", "/", ready=True), NavEntry("Analytics", "/analytics", ready=True))),
    NavModule(
        "Inbox",
        "inbox",
        (
            NavEntry("Conversations", "/inbox", ready=True),
            NavEntry("Compose", "/inbox/compose", WRITERS, ready=True),
            NavEntry("Message log", "/messages", ready=True),
        ),
    ),
    NavModule(
        "Contacts",
        "users",
        (
            NavEntry("All contacts", "/contacts", ready=True),
            NavEntry("New contact", "/contacts/new", WRITERS, ready=True),
            NavEntry("Import CSV", "/contacts/import", WRITERS, ready=True),
        ),
    ),
    NavModule(
        "Bulk",
        "megaphone",
        (NavEntry("Campaigns", "/bulk", ready=True), NavEntry("New campaign", "/bulk/new", WRITERS, ready=True),
         NavEntry("Scheduled", "/bulk/scheduled", ready=True)),
    ),
    NavModule("Templates", "file-text", (NavEntry("Templates", "/templates", ready=True), NavEntry("New template", "/templates/new", WRITERS, ready=True))),
    NavModule("Voice", "phone", (NavEntry("Call log", "/voice", ready=True), NavEntry("New call", "/voice/new", WRITERS, ready=True))),
    NavModule("Media", "image", (NavEntry("Library", "/media", ready=True),)),
    NavModule(
        "AI",
        "sparkles",
        (
            NavEntry("Assistant", "/ai/assistant", ready=True),
            NavEntry("Knowledge base", "/ai/knowledge-base", ready=True),
            NavEntry("Interactions", "/ai/interactions", ready=True),
            NavEntry("Settings", "/ai/settings", ADMINS, ready=True),
        ),
    ),
    NavModule(
        "Admin",
        "shield",
        (
            NavEntry("Users", "/admin/users", ADMINS, ready=True),
            NavEntry("Configuration", "/admin/config", ADMINS, ready=True),
            NavEntry("Rate limits", "/admin/rate-limits", ADMINS, ready=True),
            NavEntry("Audit log", "/admin/audit", ADMINS, ready=True),
            NavEntry("Dead letters", "/admin/dlq", ADMINS, ready=True),
        ),
    ),
    NavModule("Account", "circle-user", (NavEntry("Profile", "/profile", ready=True),)),
)
