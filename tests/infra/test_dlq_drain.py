"""The send queues' SQS dead-letter queues are drained into the dead-letter table by dlq-replay's schedule, and
by nothing else: only dlq-replay may count, receive and delete their records, on exactly those four queues,
and only it is given their URLs (`WECARE_SEND_DLQ_URLS`)."""
from __future__ import annotations

import json

import pytest

from infra.messaging_access import DRAIN_ACTIONS, FUNCTION_MESSAGING_ACCESS
from infra.wecare_stack import SEND_CHANNELS
from tests.infra.stack_template import PREFIX, as_list, functions_by_name, named, render, role_statements

DRAINER = "dlq-replay"


def _dead_letter_queue_ids(synthesized) -> dict[str, str]:
    return {
        channel: named(synthesized, "AWS::SQS::Queue", "QueueName", f"{PREFIX}{channel}-send-dlq")[0]
        for channel in SEND_CHANNELS
    }


def _on(statement: dict, queue_id: str) -> bool:
    return {"Fn::GetAtt": [queue_id, "Arn"]} in as_list(statement["Resource"])


@pytest.mark.parametrize("channel", SEND_CHANNELS)
def test_only_dlq_replay_may_receive_and_delete_on_the_dead_letter_queue(synthesized, channel):
    queue_id = _dead_letter_queue_ids(synthesized)[channel]

    def allowed(action: str) -> set[str]:
        return {
            name
            for name, statements in role_statements(synthesized).items()
            if any(action in as_list(s["Action"]) and _on(s, queue_id) for s in statements)
        }

    assert allowed("sqs:ReceiveMessage") == allowed("sqs:DeleteMessage") == allowed("sqs:GetQueueAttributes") == {DRAINER}
    assert allowed("sqs:SendMessage") == allowed("sqs:ChangeMessageVisibility") == allowed("sqs:PurgeQueue") == set()


def test_no_other_role_of_the_template_may_touch_the_dead_letter_queues(synthesized):
    """Not only the functions: any role's policy (a web tier's task role, say) naming a send dead-letter queue
    is dlq-replay's."""
    arns = [{"Fn::GetAtt": [queue_id, "Arn"]} for queue_id in _dead_letter_queue_ids(synthesized).values()]
    _, drainer = functions_by_name(synthesized)[DRAINER]
    roles = {
        json.dumps(role, sort_keys=True)
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(arn in as_list(statement.get("Resource", [])) for arn in arns)
        for role in policy["Properties"].get("Roles", [])
    }
    assert roles == {json.dumps({"Ref": drainer["Role"]["Fn::GetAtt"][0]}, sort_keys=True)}


def test_dlq_replay_drains_exactly_the_four_dead_letter_queues_with_exactly_the_drain_actions(synthesized):
    queue_ids = _dead_letter_queue_ids(synthesized)
    arns = [{"Fn::GetAtt": [queue_id, "Arn"]} for queue_id in queue_ids.values()]
    statements = [s for s in role_statements(synthesized)[DRAINER] if any(arn in as_list(s["Resource"]) for arn in arns)]
    granted = {action for s in statements for action in as_list(s["Action"])}
    on = [arn for s in statements for arn in as_list(s["Resource"])]
    assert granted == set(DRAIN_ACTIONS) == {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
    assert sorted(map(json.dumps, on)) == sorted(map(json.dumps, arns))  # the four dead-letter queues, nothing more
    assert all(s["Effect"] == "Allow" and not s.get("Condition") for s in statements)
    assert {name for name, access in FUNCTION_MESSAGING_ACCESS.items() if access.drain} == {DRAINER}
    assert set(FUNCTION_MESSAGING_ACCESS[DRAINER].drain) == set(SEND_CHANNELS)


def test_only_dlq_replay_is_given_the_dead_letter_queue_urls(synthesized):
    queue_ids = _dead_letter_queue_ids(synthesized)
    for name, (_, props) in functions_by_name(synthesized).items():
        env = props["Environment"]["Variables"]
        if name != DRAINER:
            assert "WECARE_SEND_DLQ_URLS" not in env, name
            continue
        urls = json.loads(render(env["WECARE_SEND_DLQ_URLS"]))
        assert urls == {channel: f"${{{queue_ids[channel]}}}" for channel in SEND_CHANNELS}
    assert DRAINER in functions_by_name(synthesized)


def test_no_function_reads_a_dead_letter_queue_it_is_not_given_the_url_of(synthesized):
    """Grant and setting come together (messaging_access): every function that may receive from a send
    dead-letter queue has that queue's URL, so the grant is the code's, not a leftover."""
    queue_ids = _dead_letter_queue_ids(synthesized)
    functions = functions_by_name(synthesized)
    for name, statements in role_statements(synthesized).items():
        receivable = {c for c, queue_id in queue_ids.items()
                      if any("sqs:ReceiveMessage" in as_list(s["Action"]) and _on(s, queue_id) for s in statements)}
        if not receivable:
            continue
        env = functions[name][1]["Environment"]["Variables"]
        assert set(json.loads(render(env["WECARE_SEND_DLQ_URLS"]))) == receivable, name
