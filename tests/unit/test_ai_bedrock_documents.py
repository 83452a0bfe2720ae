"""The knowledge base's documents in AWS (issue 14): with a Bedrock knowledge base whose S3 data source is the
media bucket, an upload is extracted here (same failure reasons as locally), its metadata sidecar written, the one
document ingested (IngestKnowledgeBaseDocuments) and followed (GetKnowledgeBaseDocuments) to indexed or failed with
Bedrock's reason; a delete removes it from the knowledge base (DeleteKnowledgeBaseDocuments) and the sidecar; the
local index is never written. The bedrock-agent requests are pinned with botocore's Stubber (moto has no
bedrock-agent); S3 is moto's."""
from __future__ import annotations

import json
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber

from backend.adapters import bedrock_ai
from backend.adapters.bedrock_ai import AiUnavailable, BedrockDocuments, DocumentState
from backend.adapters.channels import providers
from backend.adapters.media_store import S3MediaStore
from backend.services.ai import knowledge_base
from backend.settings import reset_settings_cache

KB_ID = "KBWECARE01"
DS_ID = "DSWECARE01"
BUCKET = "wecare-media-test"
HANDBOOK = b"# Shop handbook\n\n## Opening hours\n\nThe shop opens from 10am to 4pm on Sundays.\n"


@pytest.fixture(autouse=True)
def _credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture
def agent():
    client = boto3.client("bedrock-agent", region_name="us-east-1")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


@pytest.fixture
def aws(tmp_path, monkeypatch, messaging, agent):
    """This deployment answers from Bedrock: the knowledge base and data source ids set, media in S3 (moto)."""
    client, stub = agent
    monkeypatch.setenv("WECARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WECARE_AI_KNOWLEDGE_BASE_ID", KB_ID)
    monkeypatch.setenv("WECARE_AI_DATA_SOURCE_ID", DS_ID)
    reset_settings_cache()
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    monkeypatch.setattr(providers, "_media_store", S3MediaStore(BUCKET, client=s3))
    monkeypatch.setattr(bedrock_ai, "boto3", SimpleNamespace(client=lambda service, **_: client))
    monkeypatch.setattr(knowledge_base, "INGEST_POLL_SECONDS", 0.0)
    yield SimpleNamespace(stub=stub, s3=s3)
    knowledge_base.wait_idle()
    monkeypatch.undo()
    reset_settings_cache()
    providers.reset_providers()


def document_uri(document) -> str:
    return f"s3://{BUCKET}/{knowledge_base._row(document.document_id).storageKey}"


def ingest_params(uri: str, token: str) -> dict:
    return {"knowledgeBaseId": KB_ID, "dataSourceId": DS_ID, "clientToken": token, "documents": [{
        "content": {"dataSourceType": "S3", "s3": {"s3Location": {"uri": uri}}},
        "metadata": {"type": "S3_LOCATION", "s3Location": {"uri": uri + ".metadata.json"}}}]}


def document_params(uri: str, **extra) -> dict:
    return {"knowledgeBaseId": KB_ID, "dataSourceId": DS_ID,
            "documentIdentifiers": [{"dataSourceType": "S3", "s3": {"uri": uri}}], **extra}


def details(uri: str, status: str, reason: str | None = None) -> dict:
    detail = {"knowledgeBaseId": KB_ID, "dataSourceId": DS_ID, "status": status,
              "identifier": {"dataSourceType": "S3", "s3": {"uri": uri}}}
    if reason:
        detail["statusReason"] = reason
    return {"documentDetails": [detail]}


def upload_held(admin, aws, monkeypatch):
    """Upload with the indexer held, so the test can queue Bedrock's answers for the document's own URI."""
    held = []
    monkeypatch.setattr(knowledge_base, "_queue", lambda document_id, version: held.append((document_id, version)))
    document = knowledge_base.upload_document(admin, "handbook.md", HANDBOOK, "text/markdown", title="Shop handbook")
    return document, held[0]


# ---------------------------------------------------------------- the adapter's requests


def test_the_three_requests_are_pinned_and_states_read(agent):
    client, stub = agent
    documents = BedrockDocuments(KB_ID, DS_ID, region="us-east-1", timeout=5, client=client)
    uri = f"s3://{BUCKET}/knowledge/doc-1/ab12cd34-handbook.md"
    token = "a" * 64
    stub.add_response("ingest_knowledge_base_documents", details(uri, "STARTING"), ingest_params(uri, token))
    stub.add_response("get_knowledge_base_documents", details(uri, "FAILED", "Unsupported file format."),
                      document_params(uri))
    stub.add_response("delete_knowledge_base_documents", details(uri, "DELETING"),
                      document_params(uri, clientToken=token))
    started = documents.ingest(uri, uri + ".metadata.json", token)
    assert started == DocumentState("STARTING") and not started.indexed and not started.failed
    failed = documents.state(uri)
    assert failed.failed and failed.reason == "Unsupported file format."
    assert documents.delete(uri, token).status == "DELETING"
    assert DocumentState("PARTIALLY_INDEXED").indexed and DocumentState("IGNORED").failed


def test_a_busy_data_source_is_unavailable_with_a_reason(agent):
    client, stub = agent
    documents = BedrockDocuments(KB_ID, DS_ID, region="us-east-1", timeout=5, client=client)
    stub.add_client_error("ingest_knowledge_base_documents", "ConflictException", "An ingestion job is running",
                          409)
    with pytest.raises(AiUnavailable) as refused:
        documents.ingest("s3://b/k", "s3://b/k.metadata.json", "t" * 40)
    assert refused.value.code == bedrock_ai.THROTTLED and "busy" in refused.value.reason
    assert "ingestion job" not in refused.value.reason  # never AWS's own words


def test_a_citation_names_the_document_by_its_sidecar_or_its_folder():
    sidecar = {"type": "S3", "s3Location": {"uri": f"s3://{BUCKET}/knowledge/doc-9/ab-handbook.md"}}
    hit = bedrock_ai._hit({"content": {"text": "We open at 10am."}, "location": sidecar, "score": 0.7,
                           "metadata": {"documentId": "doc-9", "title": "Shop handbook"}})
    assert (hit.passage.document_id, hit.passage.title) == ("doc-9", "Shop handbook")
    bare = bedrock_ai._hit({"content": {"text": "We open at 10am."}, "location": sidecar, "score": 0.7})
    assert bare.passage.document_id == "doc-9"  # knowledge/<documentId>/<file>


# ---------------------------------------------------------------- the service in AWS


def test_an_upload_is_ingested_and_followed_until_indexed(admin, viewer, aws, monkeypatch):
    document, (document_id, version) = upload_held(admin, aws, monkeypatch)
    uri = document_uri(document)
    aws.stub.add_response("ingest_knowledge_base_documents", details(uri, "STARTING"),
                          ingest_params(uri, knowledge_base._token(document_id, version, "ingest")))
    aws.stub.add_response("get_knowledge_base_documents", details(uri, "IN_PROGRESS"), document_params(uri))
    aws.stub.add_response("get_knowledge_base_documents", details(uri, "INDEXED"), document_params(uri))

    assert knowledge_base.index_document(document_id, version) == "indexed"
    indexed = knowledge_base.get_document(viewer, document_id)
    assert indexed.status == "indexed" and indexed.error is None and indexed.passages == 1
    key = knowledge_base._row(document_id).storageKey
    sidecar = json.loads(aws.s3.get_object(Bucket=BUCKET, Key=key + ".metadata.json")["Body"].read())
    assert sidecar == {"metadataAttributes": {"documentId": document_id, "title": "Shop handbook"}}
    listed = knowledge_base.list_documents(admin)
    assert listed.retrieval == f"Bedrock knowledge base {KB_ID}" and listed.passages == 1
    assert knowledge_base.local_index().document_ids() == set()  # Bedrock is the index here
    assert knowledge_base.resume_indexing() == 0  # an indexed document is not ingested again at start-up


def test_a_document_bedrock_cannot_index_ends_failed_with_its_reason(admin, aws, monkeypatch):
    document, (document_id, version) = upload_held(admin, aws, monkeypatch)
    uri = document_uri(document)
    aws.stub.add_response("ingest_knowledge_base_documents", details(uri, "FAILED", "The file exceeds 50 MB."),
                          ingest_params(uri, knowledge_base._token(document_id, version, "ingest")))
    assert knowledge_base.index_document(document_id, version) == "failed"
    failed = knowledge_base.get_document(admin, document_id)
    assert failed.status == "failed"
    assert failed.error == "Bedrock could not index the document (failed): The file exceeds 50 MB."


def test_a_refused_ingestion_ends_failed_and_a_slow_one_says_so(admin, aws, monkeypatch):
    document, (document_id, version) = upload_held(admin, aws, monkeypatch)
    uri = document_uri(document)
    aws.stub.add_client_error("ingest_knowledge_base_documents", "AccessDeniedException", "not allowed", 403)
    assert knowledge_base.index_document(document_id, version) == "failed"
    assert knowledge_base.get_document(admin, document_id).error.startswith(
        "Bedrock could not take the document: This app is not allowed to use the knowledge base")

    again = knowledge_base.reindex_document(admin, document_id)  # queued (the worker is held)
    version = knowledge_base._row(document_id).kbVersion
    monkeypatch.setattr(knowledge_base, "INGEST_WAIT_SECONDS", 0)
    aws.stub.add_response("ingest_knowledge_base_documents", details(uri, "IN_PROGRESS"),
                          ingest_params(uri, knowledge_base._token(document_id, version, "ingest")))
    assert again.status == "queued" and knowledge_base.index_document(document_id, version) == "failed"
    assert "had not finished indexing the document" in knowledge_base.get_document(admin, document_id).error


def test_a_text_that_cannot_be_read_fails_here_without_asking_bedrock(admin, aws, monkeypatch):
    held = []
    monkeypatch.setattr(knowledge_base, "_queue", lambda document_id, version: held.append((document_id, version)))
    document = knowledge_base.upload_document(admin, "scan.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    assert knowledge_base.index_document(*held[0]) == "failed"  # no Bedrock call queued: the stub would refuse one
    assert knowledge_base.get_document(admin, document.document_id).status == "failed"


def test_a_delete_removes_the_document_from_bedrock_and_its_sidecar(admin, aws, monkeypatch):
    document, (document_id, version) = upload_held(admin, aws, monkeypatch)
    uri = document_uri(document)
    aws.stub.add_response("ingest_knowledge_base_documents", details(uri, "INDEXED"),
                          ingest_params(uri, knowledge_base._token(document_id, version, "ingest")))
    assert knowledge_base.index_document(document_id, version) == "indexed"
    aws.stub.add_response("delete_knowledge_base_documents", details(uri, "DELETING"),
                          document_params(uri, clientToken=knowledge_base._token(document_id, version, "delete")))
    knowledge_base.delete_document(admin, document_id)
    assert aws.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0  # the file and its sidecar
    assert knowledge_base.list_documents(admin).documents == []
