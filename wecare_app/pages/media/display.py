"""How a media file reads on the library's grid and on its own page: its kind's badge and icon, its size, its
dates, where it is used, and links made absolute for the browser. Plain Python (the views' own flags decide
what may be done: `can_delete`, `delete_reason`)."""
from __future__ import annotations

from backend.services.media.library import FileUse, LibraryFile, LibraryFileDetail
from wecare_app.components.formatting import CHANNEL_LABELS, utc_stamp

KIND_LABELS = {"image": "Image", "video": "Video", "audio": "Audio", "document": "Document", "sticker": "Sticker"}
KIND_ICONS = {"image": "image", "video": "film", "audio": "music", "document": "file-text", "sticker": "smile"}
KIND_COLORS = {"image": "teal", "video": "violet", "audio": "orange", "document": "blue", "sticker": "pink"}
KIND_FILTERS = (("all", "All"), ("image", "Images"), ("video", "Videos"), ("audio", "Audio"), ("document", "Documents"),
                ("sticker", "Stickers"))
USE_ICONS = {"message": "send", "received": "inbox", "campaign": "megaphone", "more": "history"}


def size_text(size: int) -> str:
    """'812 B', '4.2 KB', '12.5 MB'."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def absolute(url: str | None, api_url: str) -> str:
    """A link the browser can open: the app's own links are paths under its API; S3's are whole URLs."""
    if not url:
        return ""
    return api_url.rstrip("/") + url if url.startswith("/") else url


def _uses_text(item: LibraryFile) -> str:
    if not item.use_count:
        return "Not used"
    return "Used in 1 place" if item.use_count == 1 else f"Used in {item.use_count} places"


def file_view(item: LibraryFile, api_url: str) -> dict:
    """A file as the grid shows it (strings and flags only)."""
    kind = item.kind or "document"
    return {
        "file_id": item.file_id,
        "name": item.name,
        "kind": kind,
        "kind_label": KIND_LABELS.get(kind, kind.capitalize()),
        "kind_icon": KIND_ICONS.get(kind, "file"),
        "kind_color": KIND_COLORS.get(kind, "gray"),
        "mime_type": item.mime_type,
        "size": size_text(item.size_bytes),
        "created": item.created_at.strftime("%d %b %Y"),
        "source_label": "Received" if item.source == "inbound" else "Uploaded",
        "thumbnail": absolute(item.preview_url, api_url),
        "uses": _uses_text(item),
        "in_use": item.in_use,
        "href": f"/media/{item.file_id}",
    }


def detail_view(item: LibraryFileDetail, api_url: str) -> dict:
    """The file's page: its metadata, its preview and what may be done with it."""
    kind = item.kind or "document"
    preview = "pdf" if item.mime_type == "application/pdf" else kind if kind in ("image", "video", "audio", "sticker") else ""
    return {
        **file_view(item, api_url),
        "preview": preview if item.preview_url else "",
        "preview_url": absolute(item.preview_url, api_url),
        "preview_fetch": item.preview_fetch,
        "created_stamp": utc_stamp(item.created_at),
        "source_text": "Received from a customer" if item.source == "inbound" else "Uploaded",
        "uploaded_by": item.uploaded_by_name or "",
        "contact_id": item.contact_id or "",
        "sha256": item.sha256 or "",
        "use_summary": _uses_text(item),
        "can_delete": item.can_delete,
        "delete_reason": item.delete_reason or "",
    }


def use_view(use: FileUse) -> dict:
    """One use: what it is, and where it leads (the conversation, or the campaign)."""
    href = f"/inbox/{use.contact_id}" if use.contact_id else f"/bulk/{use.job_id}" if use.job_id else ""
    return {
        "kind": use.kind,
        "label": use.label,
        "icon": USE_ICONS.get(use.kind, "link"),
        "when": utc_stamp(use.at) if use.at else "",
        "channel": CHANNEL_LABELS.get(use.channel or "", ""),
        "href": href,
        "link_text": "Open conversation" if use.contact_id else "Open campaign" if use.job_id else "",
    }
