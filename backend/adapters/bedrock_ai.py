"""AI answers in AWS: passages from a Bedrock knowledge base (`bedrock-agent-runtime` Retrieve) and an answer from
a Bedrock model (`bedrock-runtime` Converse), with an optional guardrail; and the knowledge base's documents kept in
step with the uploads (`bedrock-agent` IngestKnowledgeBaseDocuments, GetKnowledgeBaseDocuments,
DeleteKnowledgeBaseDocuments on the S3 data source the media bucket is: one document at a time, no full sync).

The request shapes are built by `retrieve_request`, `converse_request`, `ingest_request` and `documents_request`
(member names as in botocore's service model) and pinned by tests/unit/test_bedrock_ai.py with botocore's Stubber, which validates them against the
service model: moto has neither service, and a payload bug there breaks every answer.

Every failure the page can meet (a timeout, throttling, missing permissions, an unknown knowledge base, model or
guardrail, an empty answer) is an `AiUnavailable` with a stable `code` and a `reason` in words for the page; the
reason never carries AWS's own message (it can name ARNs and accounts) nor the question. Logs name the operation,
the code and the request id, never the question's text nor credentials.

Clients are built lazily, once per instance: the read timeout is `ai_timeout_seconds`, and botocore's standard
mode retries a throttled, failed or timed-out call once (two attempts in all), so the slowest failure holds the
page for about two read timeouts (2 × 12 s by default, inside the functions' 30 s).
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from backend.adapters.knowledge_hits import Hit, Passage

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5
MAX_ATTEMPTS = 2  # botocore's `total_max_attempts`: the first try and one retry
MAX_QUERY = 20_000  # Retrieve's retrievalQuery.text limit
MAX_RESULTS = 100  # Retrieve's numberOfResults limit
SOURCE_URI_KEY = "x-amz-bedrock-kb-source-uri"
CHUNK_ID_KEY = "x-amz-bedrock-kb-chunk-id"
GUARDRAIL_INTERVENED = "guardrail_intervened"
KNOWLEDGE_PREFIX = "knowledge"  # the media bucket's folder of knowledge-base documents: knowledge/<documentId>/<file>
METADATA_SUFFIX = ".metadata.json"  # Bedrock's sidecar convention: <object key>.metadata.json

# AiUnavailable codes.
TIMEOUT = "timeout"
THROTTLED = "throttled"
ACCESS_DENIED = "access-denied"
VALIDATION = "validation"
NOT_FOUND = "not-found"
GUARDRAIL = "guardrail"
UNAVAILABLE = "unavailable"
EMPTY = "empty"

_ERROR_CODES = {
    "ThrottlingException": THROTTLED,
    "ServiceQuotaExceededException": THROTTLED,
    "AccessDeniedException": ACCESS_DENIED,
    "ValidationException": VALIDATION,
    "ResourceNotFoundException": NOT_FOUND,
    "ModelTimeoutException": TIMEOUT,
    "ModelNotReadyException": UNAVAILABLE,
    "ServiceUnavailableException": UNAVAILABLE,
    "ConflictException": THROTTLED,  # the data source is busy (another ingestion): try again shortly
    "InternalServerException": UNAVAILABLE,
}

_CLIENT_LOCK = threading.Lock()  # boto3's default session is not safe to build clients from in parallel


class AiUnavailable(Exception):
    """Bedrock could not answer: `code` is stable (see the constants above), `reason` is for the page."""

    def __init__(self, reason: str, *, code: str):
        super().__init__(reason)
        self.reason = reason
        self.code = code

    def __repr__(self) -> str:
        return f"AiUnavailable({self.reason!r}, code={self.code!r})"


def _reason(code: str, what: str, setting: str) -> str:
    return {
        TIMEOUT: f"The {what} took too long to answer.",
        THROTTLED: f"The {what} is busy (too many requests); try again in a moment.",
        ACCESS_DENIED: f"This app is not allowed to use the {what}; check the role's Bedrock permissions "
                       "and the model access in the AWS account.",
        VALIDATION: f"The {what} refused the request as invalid.",
        NOT_FOUND: f"The {what} was not found; check the {setting} setting.",
        GUARDRAIL: "The guardrail could not be applied; check the ai_guardrail_id and ai_guardrail_version "
                   "settings and the role's permission to use it.",
        UNAVAILABLE: f"The {what} is unavailable right now; try again later.",
    }[code]


def _client_config(timeout: float) -> Config:
    return Config(connect_timeout=CONNECT_TIMEOUT, read_timeout=timeout,
                  retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"})


class _LazyClient:
    """One boto3 client per instance, built on first use (a `client` given at construction wins)."""

    def __init__(self, service: str, region: str, timeout: float, client: Any = None):
        self._service = service
        self._region = region
        self._timeout = timeout
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    with _CLIENT_LOCK:
                        self._client = boto3.client(self._service, region_name=self._region,
                                                    config=_client_config(self._timeout))
        return self._client


def _call(operation: str, what: str, setting: str, call, *, guardrail: bool = False) -> dict:
    """Run one Bedrock call; every failure a page can meet becomes an AiUnavailable (the cause chained)."""
    started = time.monotonic()
    try:
        response = call()
    except ClientError as exc:
        error = exc.response.get("Error") or {}
        aws_code = str(error.get("Code") or "Unknown")
        code = _ERROR_CODES.get(aws_code, UNAVAILABLE)
        if guardrail and code in (VALIDATION, NOT_FOUND, ACCESS_DENIED) and "guardrail" in str(
                error.get("Message") or "").lower():
            code = GUARDRAIL
        request_id = (exc.response.get("ResponseMetadata") or {}).get("RequestId")
        log.warning("bedrock %s failed: %s (%s), request %s", operation, aws_code, code, request_id)
        raise AiUnavailable(_reason(code, what, setting), code=code) from exc
    except (ReadTimeoutError, ConnectTimeoutError) as exc:
        log.warning("bedrock %s timed out after %.1fs (%s)", operation, time.monotonic() - started,
                    type(exc).__name__)
        raise AiUnavailable(_reason(TIMEOUT, what, setting), code=TIMEOUT) from exc
    except (EndpointConnectionError, ConnectionClosedError) as exc:
        log.warning("bedrock %s unreachable (%s)", operation, type(exc).__name__)
        raise AiUnavailable(_reason(UNAVAILABLE, what, setting), code=UNAVAILABLE) from exc
    except NoCredentialsError as exc:
        log.error("bedrock %s: no AWS credentials", operation)
        raise AiUnavailable(_reason(ACCESS_DENIED, what, setting), code=ACCESS_DENIED) from exc
    except ParamValidationError as exc:
        # Our own request broke the service model: a bug, loud in the log. botocore's text can echo values.
        log.error("bedrock %s: request rejected by the service model (a bug in %s)", operation, __name__)
        raise AiUnavailable(_reason(VALIDATION, what, setting), code=VALIDATION) from exc
    log.info("bedrock %s answered in %d ms, request %s", operation, (time.monotonic() - started) * 1000,
             (response.get("ResponseMetadata") or {}).get("RequestId"))
    return response


# ---------------------------------------------------------------- knowledge base (Retrieve)


def retrieve_request(knowledge_base_id: str, query: str, k: int) -> dict:
    """Retrieve parameters."""
    return {
        "knowledgeBaseId": knowledge_base_id,
        "retrievalQuery": {"text": query},
        "retrievalConfiguration": {"vectorSearchConfiguration": {"numberOfResults": k}},
    }


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _location(location: dict) -> str:
    """The passage's source: S3 → its URI, WEB → its URL, others → the first `*Location`'s uri/url (id)."""
    kind = location.get("type")
    if kind == "S3":
        return str((location.get("s3Location") or {}).get("uri") or "")
    if kind == "WEB":
        return str((location.get("webLocation") or {}).get("url") or "")
    for key, value in location.items():
        if key.endswith("Location") and isinstance(value, dict):
            found = value.get("uri") or value.get("url") or value.get("id")
            if found:
                return str(found)
    return ""


def _basename(uri: str) -> str:
    path = urlparse(uri).path if "://" in uri else uri
    return unquote(PurePosixPath(path).name)


def _document_id(kind: str | None, uri: str, metadata: dict) -> str:
    """The `documentId` our metadata sidecar gave the object; else, for an S3 object under the knowledge base's
    prefix (`knowledge/<documentId>/<file>`), that folder; else the object key's stem; otherwise a short hash."""
    given = metadata.get("documentId")
    if isinstance(given, str) and given.strip():
        return given.strip()
    if kind == "S3" and uri:
        path = PurePosixPath(unquote(urlparse(uri).path))
        if len(path.parts) >= 3 and path.parts[-3] == KNOWLEDGE_PREFIX:
            return path.parts[-2]
        if path.stem:
            return path.stem
    return _short_hash(uri)


def _hit(result: dict) -> Hit | None:
    text = str((result.get("content") or {}).get("text") or "")
    if not text.strip():
        return None  # an image, a table row without text: nothing to quote
    location = result.get("location") or {}
    uri = _location(location)
    metadata = result.get("metadata") or {}
    source_uri = metadata.get(SOURCE_URI_KEY)
    title = metadata.get("title")
    if not (isinstance(title, str) and title.strip()):
        title = _basename(str(source_uri)) if source_uri else _basename(uri)
    document_id = _document_id(location.get("type"), uri, metadata)
    chunk_id = metadata.get(CHUNK_ID_KEY)
    if not chunk_id:
        chunk_id = _short_hash(uri, text)
    score = float(result.get("score") or 0.0)
    passage = Passage(chunk_id=str(chunk_id), document_id=document_id, title=str(title or document_id),
                      heading="", location=uri, text=text)
    return Hit(passage=passage, score=score, coverage=min(1.0, max(0.0, score)))


class BedrockKnowledgeBase:
    """Search a Bedrock knowledge base: the same `search(query, k) -> list[Hit]` as the local index."""

    def __init__(self, knowledge_base_id: str, *, region: str, timeout: float, client: Any = None):
        self.knowledge_base_id = knowledge_base_id
        self._client = _LazyClient("bedrock-agent-runtime", region, timeout, client)

    @property
    def client(self) -> Any:
        return self._client.client

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """The k most relevant passages, best first. A blank query finds nothing (and calls nothing)."""
        query = (query or "").strip()[:MAX_QUERY]
        if not query:
            return []
        k = max(1, min(MAX_RESULTS, int(k)))
        params = retrieve_request(self.knowledge_base_id, query, k)
        log.debug("bedrock retrieve: %d characters, k=%d", len(query), k)
        response = _call("retrieve", "knowledge base", "ai_knowledge_base_id",
                         lambda: self.client.retrieve(**params))
        hits = [hit for hit in map(_hit, response.get("retrievalResults") or []) if hit is not None]
        hits.sort(key=lambda hit: hit.score, reverse=True)  # stable: equal scores keep Bedrock's order
        return hits


# ---------------------------------------------------------------- model (Converse)


@dataclass(frozen=True)
class Generated:
    text: str
    stop_reason: str
    input_tokens: int
    output_tokens: int
    guardrail_intervened: bool


def converse_request(model_id: str, system_prompt: str, user_text: str, *, max_tokens: int, temperature: float,
                     guardrail_id: str | None, guardrail_version: str) -> dict:
    """Converse parameters: one system prompt, one user turn, the guardrail only when one is set."""
    params: dict[str, Any] = {
        "modelId": model_id,
        "system": [{"text": system_prompt}],
        "messages": [{"role": "user", "content": [{"text": user_text}]}],
        "inferenceConfig": {"maxTokens": max_tokens, "temperature": temperature},
    }
    if guardrail_id:
        params["guardrailConfig"] = {"guardrailIdentifier": guardrail_id, "guardrailVersion": guardrail_version}
    return params


class BedrockResponder:
    """One answer from a Bedrock model through Converse."""

    def __init__(self, model_id: str, *, region: str, timeout: float, guardrail_id: str | None = None,
                 guardrail_version: str = "DRAFT", client: Any = None):
        self.model_id = model_id
        self.guardrail_id = guardrail_id or None
        self.guardrail_version = guardrail_version
        self._client = _LazyClient("bedrock-runtime", region, timeout, client)

    @property
    def client(self) -> Any:
        return self._client.client

    def converse(self, system_prompt: str, user_text: str, *, max_tokens: int = 400,
                 temperature: float = 0.2) -> Generated:
        params = converse_request(self.model_id, system_prompt, user_text, max_tokens=max_tokens,
                                  temperature=temperature, guardrail_id=self.guardrail_id,
                                  guardrail_version=self.guardrail_version)
        log.debug("bedrock converse: %d + %d characters", len(system_prompt), len(user_text))
        response = _call("converse", "model", "ai_model_id", lambda: self.client.converse(**params),
                         guardrail=self.guardrail_id is not None)
        content = ((response.get("output") or {}).get("message") or {}).get("content") or []
        text = "".join(str(block["text"]) for block in content if isinstance(block, dict) and "text" in block)
        stop_reason = str(response.get("stopReason") or "")
        intervened = stop_reason == GUARDRAIL_INTERVENED
        usage = response.get("usage") or {}
        if not text.strip():
            code = GUARDRAIL if intervened else EMPTY
            log.warning("bedrock converse: empty answer (stop reason %s)", stop_reason or "none")
            raise AiUnavailable("The guardrail blocked the answer." if intervened
                                else "The model returned no answer.", code=code)
        return Generated(text=text.strip(), stop_reason=stop_reason, input_tokens=int(usage.get("inputTokens") or 0),
                         output_tokens=int(usage.get("outputTokens") or 0), guardrail_intervened=intervened)


# ---------------------------------------------------------------- knowledge base documents (direct ingestion)

# GetKnowledgeBaseDocuments' statuses, by what they mean for the document's row.
INDEXED_STATUSES = frozenset({"INDEXED", "PARTIALLY_INDEXED", "METADATA_PARTIALLY_INDEXED"})
FAILED_STATUSES = frozenset({"FAILED", "METADATA_UPDATE_FAILED", "IGNORED", "NOT_FOUND"})


def s3_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def metadata_sidecar(document_id: str, title: str) -> bytes:
    """The `<key>.metadata.json` beside a document: Retrieve hands these back as the passage's metadata, so a
    citation names our document and its title."""
    return json.dumps({"metadataAttributes": {"documentId": document_id, "title": title}}).encode()


def _identifier(uri: str) -> dict:
    return {"dataSourceType": "S3", "s3": {"uri": uri}}


def ingest_request(knowledge_base_id: str, data_source_id: str, uri: str, metadata_uri: str,
                   client_token: str) -> dict:
    """IngestKnowledgeBaseDocuments parameters: one S3 document with its metadata sidecar."""
    return {
        "knowledgeBaseId": knowledge_base_id,
        "dataSourceId": data_source_id,
        "clientToken": client_token,
        "documents": [{
            "content": {"dataSourceType": "S3", "s3": {"s3Location": {"uri": uri}}},
            "metadata": {"type": "S3_LOCATION", "s3Location": {"uri": metadata_uri}},
        }],
    }


def documents_request(knowledge_base_id: str, data_source_id: str, uri: str, client_token: str | None = None) -> dict:
    """GetKnowledgeBaseDocuments (no token) and DeleteKnowledgeBaseDocuments (a token) parameters: one document."""
    params: dict[str, Any] = {"knowledgeBaseId": knowledge_base_id, "dataSourceId": data_source_id,
                              "documentIdentifiers": [_identifier(uri)]}
    if client_token is not None:
        params["clientToken"] = client_token
    return params


@dataclass(frozen=True)
class DocumentState:
    status: str  # Bedrock's DocumentStatus ("PENDING", "INDEXED", "FAILED", …)
    reason: str = ""  # Bedrock's statusReason (about the document, never the question)

    @property
    def indexed(self) -> bool:
        return self.status in INDEXED_STATUSES

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


def _state(response: dict) -> DocumentState:
    details = response.get("documentDetails") or [{}]
    first = details[0] if isinstance(details[0], dict) else {}
    return DocumentState(str(first.get("status") or "PENDING"), str(first.get("statusReason") or "")[:500])


class BedrockDocuments:
    """The knowledge base's documents in its S3 data source: ingest one, read its state, delete it."""

    def __init__(self, knowledge_base_id: str, data_source_id: str, *, region: str, timeout: float, client: Any = None):
        self.knowledge_base_id = knowledge_base_id
        self.data_source_id = data_source_id
        self._client = _LazyClient("bedrock-agent", region, timeout, client)

    @property
    def client(self) -> Any:
        return self._client.client

    def ingest(self, uri: str, metadata_uri: str, client_token: str) -> DocumentState:
        params = ingest_request(self.knowledge_base_id, self.data_source_id, uri, metadata_uri, client_token)
        return _state(_call("ingest documents", "knowledge base", "ai_data_source_id",
                            lambda: self.client.ingest_knowledge_base_documents(**params)))

    def state(self, uri: str) -> DocumentState:
        params = documents_request(self.knowledge_base_id, self.data_source_id, uri)
        return _state(_call("get documents", "knowledge base", "ai_data_source_id",
                            lambda: self.client.get_knowledge_base_documents(**params)))

    def delete(self, uri: str, client_token: str) -> DocumentState:
        params = documents_request(self.knowledge_base_id, self.data_source_id, uri, client_token)
        return _state(_call("delete documents", "knowledge base", "ai_data_source_id",
                            lambda: self.client.delete_knowledge_base_documents(**params)))
