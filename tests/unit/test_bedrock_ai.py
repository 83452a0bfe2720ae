"""Bedrock AI adapter: the Retrieve and Converse requests are pinned with Stubber on real clients (moto has
neither bedrock-agent-runtime nor bedrock-runtime), so botocore checks them against the service model; responses
map to Hits and Generated answers, and every failure is an AiUnavailable with a stable code."""
from __future__ import annotations

import logging

import boto3
import pytest
from botocore.exceptions import ParamValidationError, ReadTimeoutError
from botocore.stub import StubAssertionError, Stubber

from backend.adapters import bedrock_ai
from backend.adapters.bedrock_ai import AiUnavailable, BedrockKnowledgeBase, BedrockResponder, Generated

KB_ID = "KBWECARE01"
MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
GUARDRAIL_ID = "gr0abc123def"
QUESTION = "Do you deliver to Leeds on Sundays?"
SYSTEM = "Answer only from the passages. Cite them as [1], [2]."
USER = "Passages:\n[1] We deliver to Leeds Monday to Saturday.\n\nQuestion: Do you deliver to Leeds on Sundays?"


@pytest.fixture(autouse=True)
def _dummy_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def kb():
    client = boto3.client("bedrock-agent-runtime", region_name="us-east-1")
    with Stubber(client) as stub:
        yield BedrockKnowledgeBase(KB_ID, region="us-east-1", timeout=20, client=client), stub
        stub.assert_no_pending_responses()


@pytest.fixture
def model():
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    with Stubber(client) as stub:
        yield client, stub


def retrieve_params(query: str = QUESTION, k: int = 3) -> dict:
    return {"knowledgeBaseId": KB_ID, "retrievalQuery": {"text": query},
            "retrievalConfiguration": {"vectorSearchConfiguration": {"numberOfResults": k}}}


def converse_params(**extra) -> dict:
    return {"modelId": MODEL_ID, "system": [{"text": SYSTEM}],
            "messages": [{"role": "user", "content": [{"text": USER}]}],
            "inferenceConfig": {"maxTokens": 400, "temperature": 0.2}, **extra}


def converse_response(*texts: str, stop_reason: str = "end_turn", input_tokens: int = 812,
                      output_tokens: int = 46) -> dict:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text} for text in texts]}},
        "stopReason": stop_reason,
        "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens,
                  "totalTokens": input_tokens + output_tokens},
        "metrics": {"latencyMs": 930},
    }


# A realistic Retrieve answer: S3 passages with Bedrock's metadata (one with a title), a web page, a Confluence
# page without metadata, an image chunk without text; not in score order.
RETRIEVE_RESPONSE = {
    "retrievalResults": [
        {
            "content": {"type": "TEXT", "text": "Sunday deliveries are not available anywhere."},
            "location": {"type": "S3", "s3Location": {"uri": "s3://wecare-kb-docs/knowledge/doc-5f2a9c.pdf"}},
            "metadata": {
                "x-amz-bedrock-kb-source-uri": "s3://wecare-kb-docs/knowledge/doc-5f2a9c.pdf",
                "x-amz-bedrock-kb-chunk-id": "1%3A0%3AxYz9QpAB",
                "x-amz-bedrock-kb-data-source-id": "DSWECARE01",
                "x-amz-bedrock-kb-document-page-number": 3.0,
            },
            "score": 0.61,
        },
        {
            "content": {"type": "TEXT", "text": "We deliver to Leeds, York and Bradford Monday to Saturday."},
            "location": {"type": "S3", "s3Location": {"uri": "s3://wecare-kb-docs/knowledge/doc-81d0e4.md"}},
            "metadata": {
                "x-amz-bedrock-kb-source-uri": "s3://wecare-kb-docs/knowledge/doc-81d0e4.md",
                "x-amz-bedrock-kb-chunk-id": "1%3A0%3AaBc1DeFG",
                "title": "Delivery areas",
            },
            "score": 0.83,
        },
        {
            "content": {"type": "TEXT", "text": "Orders placed before noon ship the same day."},
            "location": {"type": "WEB", "webLocation": {"url": "https://wecare.example/help/shipping-times"}},
            "metadata": {"x-amz-bedrock-kb-source-uri": "https://wecare.example/help/shipping-times"},
            "score": 0.42,
        },
        {
            "content": {"type": "TEXT", "text": "Courier cut-off is 4pm."},
            "location": {"type": "CONFLUENCE",
                         "confluenceLocation": {"url": "https://wecare.atlassian.net/wiki/spaces/OPS/pages/42"}},
            "score": 1.7,  # outside 0..1: coverage is clamped
        },
        {
            "content": {"type": "IMAGE", "byteContent": "data:image/png;base64,iVBORw0KGgo="},
            "location": {"type": "S3", "s3Location": {"uri": "s3://wecare-kb-docs/knowledge/map.png"}},
            "score": 0.9,
        },
    ]
}


# ---------------------------------------------------------------- Retrieve


def test_retrieve_request_is_pinned_and_results_map_best_first(kb):
    index, stub = kb
    stub.add_response("retrieve", RETRIEVE_RESPONSE, retrieve_params())
    hits = index.search(QUESTION)

    assert [hit.score for hit in hits] == [1.7, 0.83, 0.61, 0.42]  # best first; the image chunk (no text) left out
    confluence, areas, sundays, web = hits

    assert areas.passage.text == "We deliver to Leeds, York and Bradford Monday to Saturday."
    assert areas.passage.location == "s3://wecare-kb-docs/knowledge/doc-81d0e4.md"
    assert areas.passage.document_id == "doc-81d0e4"  # the object key's stem
    assert areas.passage.title == "Delivery areas"  # the metadata title wins
    assert areas.passage.chunk_id == "1%3A0%3AaBc1DeFG"
    assert (areas.score, areas.coverage) == (0.83, 0.83)

    assert sundays.passage.title == "doc-5f2a9c.pdf"  # the source URI's basename
    assert (sundays.passage.document_id, sundays.passage.chunk_id) == ("doc-5f2a9c", "1%3A0%3AxYz9QpAB")

    assert web.passage.location == "https://wecare.example/help/shipping-times"
    assert web.passage.title == "shipping-times"
    assert len(web.passage.document_id) == 16 and web.passage.document_id != confluence.passage.document_id

    assert confluence.passage.location == "https://wecare.atlassian.net/wiki/spaces/OPS/pages/42"
    assert confluence.passage.title == "42"
    assert len(confluence.passage.chunk_id) == 16  # no chunk id in the metadata: a hash
    assert (confluence.score, confluence.coverage) == (1.7, 1.0)


def test_ids_made_from_hashes_are_stable(kb):
    index, stub = kb
    for _ in range(2):
        stub.add_response("retrieve", RETRIEVE_RESPONSE, retrieve_params())
    first, second = index.search(QUESTION), index.search(QUESTION)
    assert [(h.passage.document_id, h.passage.chunk_id) for h in first] == [
        (h.passage.document_id, h.passage.chunk_id) for h in second]


def test_retrieve_asks_for_k_results(kb):
    index, stub = kb
    stub.add_response("retrieve", {"retrievalResults": []}, retrieve_params("opening hours", k=8))
    assert index.search("  opening hours ", k=8) == []


def test_a_blank_query_calls_nothing(kb):
    index, stub = kb
    assert index.search("   ") == []  # no response queued: a call would fail the stub


def test_a_wrong_retrieve_shape_is_rejected_by_the_service_model():
    client = boto3.client("bedrock-agent-runtime", region_name="us-east-1")
    wrong = {**retrieve_params(), "retrievalQuery": QUESTION}  # a plain string where {"text": …} belongs
    with Stubber(client) as stub:
        stub.add_response("retrieve", {"retrievalResults": []}, wrong)
        with pytest.raises(ParamValidationError, match="retrievalQuery"):
            client.retrieve(**wrong)
        with pytest.raises(AssertionError):
            stub.assert_no_pending_responses()  # nothing was sent


def test_a_wrong_shape_built_by_the_adapter_fails_loudly(monkeypatch, caplog):
    client = boto3.client("bedrock-agent-runtime", region_name="us-east-1")
    index = BedrockKnowledgeBase(KB_ID, region="us-east-1", timeout=20, client=client)
    monkeypatch.setattr(bedrock_ai, "retrieve_request", lambda kb_id, query, k: {
        "knowledgeBaseId": kb_id, "retrievalQuery": query,
        "retrievalConfiguration": {"vectorSearchConfiguration": {"numberOfResults": k}}})
    with Stubber(client) as stub:
        stub.add_response("retrieve", {"retrievalResults": []}, {**retrieve_params(), "retrievalQuery": QUESTION})
        with caplog.at_level(logging.ERROR, logger=bedrock_ai.__name__), pytest.raises(AiUnavailable) as raised:
            index.search(QUESTION)
    assert raised.value.code == "validation"
    assert isinstance(raised.value.__cause__, ParamValidationError)
    assert "rejected by the service model" in caplog.text


# ---------------------------------------------------------------- Converse


def test_converse_request_is_pinned_without_a_guardrail(model):
    client, stub = model
    stub.add_response("converse", converse_response("No, ", "we deliver to Leeds Monday to Saturday [1]."),
                      converse_params())
    answer = BedrockResponder(MODEL_ID, region="us-east-1", timeout=20, client=client).converse(SYSTEM, USER)
    stub.assert_no_pending_responses()
    assert answer == Generated(text="No, we deliver to Leeds Monday to Saturday [1].", stop_reason="end_turn",
                               input_tokens=812, output_tokens=46, guardrail_intervened=False)


def test_converse_request_is_pinned_with_a_guardrail(model):
    client, stub = model
    stub.add_response("converse", converse_response("Yes."), converse_params(
        inferenceConfig={"maxTokens": 250, "temperature": 0.0},
        guardrailConfig={"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "3"}))
    responder = BedrockResponder(MODEL_ID, region="us-east-1", timeout=20, guardrail_id=GUARDRAIL_ID,
                                 guardrail_version="3", client=client)
    answer = responder.converse(SYSTEM, USER, max_tokens=250, temperature=0.0)
    stub.assert_no_pending_responses()
    assert answer.text == "Yes."


def test_the_guardrail_version_defaults_to_draft(model):
    client, stub = model
    stub.add_response("converse", converse_response("Yes."), converse_params(
        guardrailConfig={"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "DRAFT"}))
    BedrockResponder(MODEL_ID, region="us-east-1", timeout=20, guardrail_id=GUARDRAIL_ID,
                     client=client).converse(SYSTEM, USER)
    stub.assert_no_pending_responses()


def test_a_guardrail_intervention_is_reported(model):
    client, stub = model
    stub.add_response("converse", converse_response("Sorry, I can't help with that.",
                                                    stop_reason="guardrail_intervened", output_tokens=0))
    answer = BedrockResponder(MODEL_ID, region="us-east-1", timeout=20, guardrail_id=GUARDRAIL_ID,
                              client=client).converse(SYSTEM, USER)
    assert (answer.guardrail_intervened, answer.stop_reason, answer.text) == (
        True, "guardrail_intervened", "Sorry, I can't help with that.")


def test_a_wrong_converse_shape_is_rejected_by_the_service_model(model):
    client, stub = model
    wrong = {**converse_params(), "messages": [{"role": "user", "content": USER}]}  # content as a plain string
    stub.add_response("converse", converse_response("Yes."), wrong)
    with pytest.raises(ParamValidationError, match="content"):
        client.converse(**wrong)


@pytest.mark.parametrize("texts, stop_reason, code", [
    ((), "end_turn", "empty"),
    (("  ", "\n"), "max_tokens", "empty"),
    ((), "guardrail_intervened", "guardrail"),
])
def test_an_empty_answer_is_unavailable(model, texts, stop_reason, code):
    client, stub = model
    stub.add_response("converse", converse_response(*texts, stop_reason=stop_reason))
    with pytest.raises(AiUnavailable) as raised:
        BedrockResponder(MODEL_ID, region="us-east-1", timeout=20, client=client).converse(SYSTEM, USER)
    assert raised.value.code == code


# ---------------------------------------------------------------- failures

ERRORS = [
    ("ThrottlingException", 429, "throttled"),
    ("ServiceQuotaExceededException", 400, "throttled"),
    ("AccessDeniedException", 403, "access-denied"),
    ("ValidationException", 400, "validation"),
    ("ResourceNotFoundException", 404, "not-found"),
    ("InternalServerException", 500, "unavailable"),
]
MODEL_ONLY_ERRORS = [
    ("ModelTimeoutException", 408, "timeout"),
    ("ModelNotReadyException", 429, "unavailable"),
    ("ServiceUnavailableException", 503, "unavailable"),
    ("ModelErrorException", 424, "unavailable"),  # not named: unavailable
]
ARN_MESSAGE = "User: arn:aws:sts::123456789012:assumed-role/wecare-app/i-0abc is not authorized"


@pytest.mark.parametrize("aws_code, status, code", ERRORS)
def test_retrieve_errors_map_to_codes(kb, aws_code, status, code):
    index, stub = kb
    stub.add_client_error("retrieve", service_error_code=aws_code, service_message=ARN_MESSAGE,
                          http_status_code=status, expected_params=retrieve_params())
    with pytest.raises(AiUnavailable) as raised:
        index.search(QUESTION)
    assert raised.value.code == code
    assert "arn:" not in raised.value.reason and "123456789012" not in raised.value.reason
    assert QUESTION not in raised.value.reason
    assert "knowledge base" in raised.value.reason


@pytest.mark.parametrize("aws_code, status, code", ERRORS + MODEL_ONLY_ERRORS)
def test_converse_errors_map_to_codes(model, aws_code, status, code):
    client, stub = model
    stub.add_client_error("converse", service_error_code=aws_code, service_message=ARN_MESSAGE,
                          http_status_code=status, expected_params=converse_params())
    with pytest.raises(AiUnavailable) as raised:
        BedrockResponder(MODEL_ID, region="us-east-1", timeout=20, client=client).converse(SYSTEM, USER)
    assert raised.value.code == code
    assert "arn:" not in raised.value.reason and "model" in raised.value.reason


def test_a_guardrail_error_is_named(model):
    client, stub = model
    stub.add_client_error("converse", service_error_code="ValidationException", http_status_code=400,
                          service_message="The guardrail identifier or version provided in the request does "
                                          "not exist.")
    responder = BedrockResponder(MODEL_ID, region="us-east-1", timeout=20, guardrail_id=GUARDRAIL_ID, client=client)
    with pytest.raises(AiUnavailable) as raised:
        responder.converse(SYSTEM, USER)
    assert raised.value.code == "guardrail"
    assert "ai_guardrail_id" in raised.value.reason


def test_a_read_timeout_is_unavailable_with_code_timeout(kb, monkeypatch):
    index, _ = kb

    def hangs(**_params):
        raise ReadTimeoutError(endpoint_url="https://bedrock-agent-runtime.us-east-1.amazonaws.com")

    monkeypatch.setattr(index.client, "retrieve", hangs)
    with pytest.raises(AiUnavailable) as raised:
        index.search(QUESTION)
    assert raised.value.code == "timeout"
    assert "took too long" in raised.value.reason


def test_a_converse_read_timeout_is_unavailable_with_code_timeout(model, monkeypatch):
    client, _ = model

    def hangs(**_params):
        raise ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com")

    monkeypatch.setattr(client, "converse", hangs)
    with pytest.raises(AiUnavailable) as raised:
        BedrockResponder(MODEL_ID, region="us-east-1", timeout=20, client=client).converse(SYSTEM, USER)
    assert raised.value.code == "timeout"


def test_the_question_is_never_logged_at_info_or_above(kb, model, caplog):
    index, kb_stub = kb
    client, model_stub = model
    kb_stub.add_response("retrieve", RETRIEVE_RESPONSE, retrieve_params())
    kb_stub.add_client_error("retrieve", service_error_code="ValidationException", service_message=QUESTION)
    model_stub.add_response("converse", converse_response("No."))
    responder = BedrockResponder(MODEL_ID, region="us-east-1", timeout=20, client=client)
    with caplog.at_level(logging.DEBUG, logger=bedrock_ai.__name__):
        index.search(QUESTION)
        with pytest.raises(AiUnavailable):
            index.search(QUESTION)
        responder.converse(SYSTEM, USER)
    loud = [record.getMessage() for record in caplog.records if record.levelno >= logging.INFO]
    assert loud and not any("Leeds" in line or "testing" in line for line in loud)


# ---------------------------------------------------------------- clients


def test_clients_are_built_lazily_once_with_timeouts_and_few_retries(monkeypatch):
    built = []
    real_client = boto3.client

    def recording_client(service, **kwargs):
        built.append((service, kwargs))
        return real_client(service, **kwargs)

    monkeypatch.setattr(bedrock_ai.boto3, "client", recording_client)
    index = BedrockKnowledgeBase(KB_ID, region="eu-west-2", timeout=12.5)
    responder = BedrockResponder(MODEL_ID, region="eu-west-2", timeout=7)
    assert built == []
    assert index.client is index.client and responder.client is responder.client
    assert [service for service, _ in built] == ["bedrock-agent-runtime", "bedrock-runtime"]
    for (service, kwargs), timeout in zip(built, (12.5, 7)):
        config = kwargs["config"]
        assert kwargs["region_name"] == "eu-west-2"
        assert (config.connect_timeout, config.read_timeout) == (5, timeout)
        # the first try and one retry: the slowest failure is two read timeouts, inside the functions' 30 s
        assert config.retries == {"mode": "standard", "total_max_attempts": 2}


def test_a_request_that_differs_from_the_pin_fails_the_test_not_the_answer(model):
    client, stub = model
    stub.add_response("converse", converse_response("Yes."), converse_params())  # pinned without a guardrail
    responder = BedrockResponder(MODEL_ID, region="us-east-1", timeout=20, guardrail_id=GUARDRAIL_ID, client=client)
    with pytest.raises(StubAssertionError):  # never swallowed into an AiUnavailable
        responder.converse(SYSTEM, USER)
