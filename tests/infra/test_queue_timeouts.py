"""A batch cannot outlive its function: for every SQS queue and the function it triggers, in the synthesized
template, the function's timeout covers a whole batch of sends at the provider clients' own timeouts, and the
queue hides a batch for at least six function timeouts (AWS's advice for Lambda consumers)."""
from __future__ import annotations

from backend.adapters.channels.errors import PROVIDER_CLIENT_CONFIG
from backend.adapters.send_queue import PROVIDER_CALLS_PER_SEND, SEND_SECONDS_MAX
from infra.wecare_stack import SEND_CHANNELS
from tests.infra.stack_template import Synthesized, get_att_targets

LAMBDA_MAX_TIMEOUT = 900


def sqs_pairs(synthesized: Synthesized) -> list[tuple[dict, dict, int]]:
    """(queue properties, function properties, batch size) for every event source mapping from an SQS queue."""
    queues = synthesized.resources("AWS::SQS::Queue")
    functions = synthesized.resources("AWS::Lambda::Function")
    pairs = []
    for mapping in synthesized.resources("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        (source,) = get_att_targets(props["EventSourceArn"])
        if source not in queues:
            continue
        function = functions[props["FunctionName"]["Ref"]]["Properties"]
        pairs.append((queues[source]["Properties"], function, props.get("BatchSize", 10)))
    return pairs


def test_one_send_takes_at_most_its_provider_calls_at_the_clients_timeouts():
    per_call = PROVIDER_CLIENT_CONFIG.connect_timeout + PROVIDER_CLIENT_CONFIG.read_timeout
    assert PROVIDER_CLIENT_CONFIG.retries["total_max_attempts"] == 1  # no hidden retry multiplies it
    assert SEND_SECONDS_MAX == PROVIDER_CALLS_PER_SEND * per_call


def test_every_queue_triggered_function_outlasts_its_batch_and_its_queue_outlasts_it(synthesized):
    pairs = sqs_pairs(synthesized)
    assert len(pairs) == len(SEND_CHANNELS)
    for queue, function, batch_size in pairs:
        name = function["FunctionName"]
        assert function["Timeout"] > batch_size * SEND_SECONDS_MAX, name  # strictly: there is a margin
        assert function["Timeout"] <= LAMBDA_MAX_TIMEOUT, name
        assert queue["VisibilityTimeout"] >= 6 * function["Timeout"], queue["QueueName"]
