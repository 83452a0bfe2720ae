"""How the AI pages read: a knowledge-base document as a table row (its type, size, status badge, what may be
done to it), an answer as a conversation turn (its text cut at the [n] citation marks, its citations as cards,
confidence and latency in words). Plain Python: the views' own flags decide what may be done (`can_manage`)."""
from __future__ import annotations

import re
import uuid
from datetime import datetime

from backend.services.ai.answers import AiAnswer, Citation
from backend.services.ai.kb_text import EXTENSIONS, KINDS
from backend.services.ai.knowledge_base import KnowledgeDocument
from wecare_app.components.formatting import as_utc, shorten, utc_stamp, within_a_day
from wecare_app.pages.media.display import size_text

TYPE_LABELS = {"pdf": "PDF", "docx": "DOCX", "text": "TXT", "markdown": "Markdown", "html": "HTML"}
STATUS_LABELS = {"queued": "Queued", "indexing": "Indexing", "indexed": "Indexed", "failed": "Failed"}
STATUS_COLORS = {"queued": "gray", "indexing": "blue", "indexed": "green", "failed": "red"}
PENDING = ("queued", "indexing")
SNIPPET_CHARS = 150
CITE_MARK = re.compile(r"(\[\d+\])")


def upload_accept() -> dict[str, list[str]]:
    """The drop zone's filter: each type the knowledge base reads, with its file extensions."""
    accept: dict[str, list[str]] = {}
    for extension, mime in EXTENSIONS.items():
        accept.setdefault(mime, []).append(extension)
    return accept


def _uploaded(moment: datetime, now: datetime) -> str:
    seconds = max(0, int((now - as_utc(moment)).total_seconds()))
    return within_a_day(seconds) or as_utc(moment).strftime("%d %b %Y")


def document_row(document: KnowledgeDocument, now: datetime) -> dict:
    """One row of the documents table (strings and flags only)."""
    status = document.status if document.status in STATUS_LABELS else "queued"
    return {
        "document_id": document.document_id,
        "title": document.title,
        "filename": document.filename,
        "type": TYPE_LABELS.get(KINDS.get(document.mime_type, ""), document.mime_type),
        "size": size_text(document.size_bytes),
        "status": status,
        "status_label": STATUS_LABELS[status],
        "status_color": STATUS_COLORS[status],
        "pending": status in PENDING,
        "failed": status == "failed",
        "error": document.error or ("" if status != "failed" else "The document could not be indexed."),
        "passages": f"{document.passages:,}" if status == "indexed" else "—",
        "uploaded": _uploaded(document.created_at, now),
        "uploaded_at": utc_stamp(document.created_at),
        "sample": document.sample,
        "can_manage": document.can_manage,
    }


# ---------------------------------------------------------------- the assistant's conversation


def answer_parts(text: str) -> list[dict]:
    """The answer cut at its citation marks: [{"text": "Sundays 10am to 4pm. ", "cite": ""}, {"text": "", "cite": "1"}]."""
    parts = []
    for piece in CITE_MARK.split(text or ""):
        if not piece:
            continue
        mark = CITE_MARK.fullmatch(piece)
        parts.append({"text": "", "cite": piece[1:-1]} if mark else {"text": piece, "cite": ""})
    return parts


def citation_card(citation: Citation) -> dict:
    return {
        "number": str(citation.number),
        "title": citation.source.title,
        "location": citation.source.location or citation.source.title,
        "document_id": citation.source.document_id,
        "content": citation.content,
        "snippet": shorten(citation.content, SNIPPET_CHARS),
        "open": False,
    }


def pending_turn(question: str) -> dict:
    """The question as asked, while its answer is fetched."""
    return {
        "turn_id": uuid.uuid4().hex[:12], "question": " ".join(question.split()), "status": "pending", "answer": "",
        "parts": [], "reason": "", "error": "", "citations": [], "confidence": "", "latency": "", "model": "",
        "interaction_id": "", "rating": "",
    }


def answered_turn(turn: dict, answer: AiAnswer) -> dict:
    """The turn with its answer: answered (the text with its marks, the citations) or declined (the reason)."""
    return {
        **turn,
        "status": "answered" if answer.answered else "declined",
        "answer": answer.answer,
        "parts": answer_parts(answer.answer),
        "reason": answer.reason or ("" if answer.answered else "The passages found do not hold the answer."),
        "citations": [citation_card(c) for c in answer.citations],
        "confidence": f"{answer.confidence:.0%}",
        "latency": f"{answer.latency_ms:,} ms",
        "model": answer.model,
        "interaction_id": answer.interaction_id,
    }


def failed_turn(turn: dict, message: str) -> dict:
    return {**turn, "status": "error", "error": message}
