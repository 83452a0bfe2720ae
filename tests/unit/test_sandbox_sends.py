"""The sandbox's record of sends, read back by message id: what settles a send a crash interrupted."""
from __future__ import annotations

from backend.adapters.channels.sandbox_sends import SendLog


def test_a_send_is_found_by_our_message_id_from_another_process_s_log(tmp_path):
    path = tmp_path / "sandbox" / "sms-sends.jsonl"
    SendLog(path).append({"message_id": "m1", "provider_message_id": "p1", "body": "hi"})
    reader = SendLog(path)  # a restarted process
    assert reader.find("m1") == "p1" and reader.find("m2") is None
    SendLog(path).append({"message_id": "m2", "provider_message_id": "p2"})
    assert reader.find("m2") == "p2"  # read on from where it stopped


def test_a_torn_last_line_is_read_once_it_is_complete_and_a_cleared_log_starts_again(tmp_path):
    path = tmp_path / "sends.jsonl"
    path.write_text('{"message_id": "m1", "provider_message_id": "p1"}\n{"message_id": "m2", "provid')
    log = SendLog(path)
    assert log.find("m1") == "p1" and log.find("m2") is None
    with path.open("a") as handle:
        handle.write('er_message_id": "p2"}\n')
    assert log.find("m2") == "p2"
    path.write_text("")
    assert log.find("m1") is None
    assert SendLog(tmp_path / "missing.jsonl").find("m1") is None
