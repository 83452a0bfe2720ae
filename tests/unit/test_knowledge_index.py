"""The local knowledge-base index (backend/adapters/knowledge_index.py), on disk in a temporary folder: bm25s ranks
the passage that answers first, with stemming; a question with no known word finds nothing, and one whose rare
word no passage holds covers too little to be answered (compose.MIN_COVERAGE); a document's passages are
replaced or removed as a whole; another instance on the same folder sees a change (the generation), and a new
one answers from the saved index without the per-document token files."""
from __future__ import annotations

import shutil

import pytest

from backend.adapters.knowledge_index import LocalKnowledgeIndex, tokens
from backend.services.ai import compose

DOCUMENTS = {
    "hours": ("Opening hours", [
        {"heading": "Standard hours", "location": "Opening hours › Standard hours",
         "text": "The shop opens at 9am on weekdays and at 10am on Sundays. It closes at 6pm."},
        {"heading": "Bank holidays", "location": "Opening hours › Bank holidays",
         "text": "On bank holidays every shop trades from 10am to 4pm. We are closed on Christmas Day."},
    ]),
    "delivery": ("Delivery", [
        {"heading": "Areas", "location": "Delivery › Areas",
         "text": "Our vans deliver to Bristol, Bath and Cheltenham on Tuesdays and Fridays."},
        {"heading": "Charges", "location": "Delivery › Charges",
         "text": "Delivery costs 5 pounds and is free on orders over 50 pounds."},
    ]),
    "returns": ("Returns and refunds", [
        {"heading": "Refunds", "location": "Returns and refunds › Refunds",
         "text": "Refunds are paid to the card you used within 14 days of the return reaching us."},
    ]),
}


def fill(index: LocalKnowledgeIndex) -> None:
    for document_id, (title, passages) in DOCUMENTS.items():
        assert index.replace_document(document_id, title, passages) == len(passages)


@pytest.fixture
def index(tmp_path) -> LocalKnowledgeIndex:
    built = LocalKnowledgeIndex(tmp_path / "knowledge")
    fill(built)
    return built


def best(index: LocalKnowledgeIndex, query: str) -> tuple[str, str]:
    hit = index.search(query)[0]
    return hit.passage.document_id, hit.passage.heading


def test_the_passage_that_answers_ranks_first(index):
    assert best(index, "How much does delivery cost?") == ("delivery", "Charges")
    assert best(index, "Which towns do your vans go to?") == ("delivery", "Areas")
    assert best(index, "Are you open on Christmas Day?") == ("hours", "Bank holidays")
    assert best(index, "When will my refund arrive?") == ("returns", "Refunds")
    hits = index.search("bank holidays Christmas", k=5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].passage.location == "Opening hours › Bank holidays"
    assert hits[0].passage.chunk_id == "hours#1" and hits[0].passage.title == "Opening hours"


def test_k_limits_the_hits_and_every_hit_shares_a_word(index):
    assert len(index.search("pounds Sundays refunds vans", k=2)) == 2
    assert len(index.search("pounds Sundays refunds vans Christmas", k=10)) == index.size() == 5
    assert len(index.search("Christmas", k=10)) == 1  # passages without the word are not hits


def test_stemming_meets_opening_opens_and_open(index):
    assert tokens("opening") == tokens("opens") == tokens("open") == ["open"]
    for query in ("What are your opening times?", "When do you open?", "What time are the shops opening"):
        assert best(index, query) == ("hours", "Standard hours"), query
    assert tokens("What is the") == []  # stop words only


def test_unknown_words_find_nothing(index):
    assert index.search("xylophone quokka") == []
    assert index.search("   ") == []
    assert index.search("what is the") == []  # stop words only


def test_a_question_whose_rare_word_is_absent_covers_too_little(index):
    [hit, *_] = index.search("Do you deliver to France?")
    assert hit.passage.document_id == "delivery"  # "deliver" meets it
    assert hit.coverage < compose.MIN_COVERAGE  # but "France", the rare word, is in no passage
    assert compose.answer_from("Do you deliver to France?", index.search("Do you deliver to France?")).answered is False
    answered = index.search("Do you deliver to Cheltenham?")[0]
    assert answered.passage.heading == "Areas" and answered.coverage == pytest.approx(1.0)


def test_words_that_meet_only_in_different_places_of_a_passage_are_not_an_answer(tmp_path):
    """A product page that names a dog bed in one sentence and the shops several sentences later and a cover to bring
    to a wash holds the words of "Can I bring my dog into the shop?" but answers nothing about it; the same words in
    one sentence do."""
    index = LocalKnowledgeIndex(tmp_path / "knowledge")
    index.replace_document("news", "Store news", [{
        "heading": "New in", "location": "Store news › New in",
        "text": "A cosy dog bed in navy. It is made from recycled polyester. Bring the cover to a wash at 40 degrees. "
                "It comes in three sizes. Find it near the entrance in all our shops."}])
    question = "Can I bring my dog into the shop?"
    [hit] = index.search(question)
    assert hit.coverage == pytest.approx(1.0)  # the passage holds every word of the question
    assert compose.focus(question, hit) < compose.MIN_COVERAGE  # but no two adjacent sentences hold half of it
    declined = compose.answer_from(question, [hit])
    assert declined.answered is False and "do not meet in any one place" in declined.reason
    index.replace_document("policy", "Shop policy", [{
        "heading": "Pets", "location": "Shop policy › Pets",
        "text": "Bring your dog into the shop on a lead; assistance dogs are welcome everywhere."}])
    answered = compose.answer_from(question, index.search(question))
    assert answered.answered and answered.answer.startswith("Bring your dog into the shop on a lead")


def test_replace_document_replaces_its_passages(index):
    assert best(index, "Cheltenham") == ("delivery", "Areas")
    count = index.replace_document("delivery", "Delivery", [
        {"heading": "Areas", "location": "Delivery › Areas", "text": "We now deliver to Gloucester on Mondays."}])
    assert count == 1 and index.size() == 4
    assert index.search("Cheltenham") == []  # the old text is gone
    assert index.search("charges pounds over 50") == []  # and its other passage
    assert best(index, "Do you deliver to Gloucester?") == ("delivery", "Areas")
    assert index.document_ids() == {"hours", "delivery", "returns"}


def test_remove_document_removes_it(index):
    index.remove_document("returns")
    assert index.search("refund card") == []
    assert index.document_ids() == {"hours", "delivery"} and index.size() == 4
    index.remove_document("returns")  # removing again is harmless
    index.remove_document("hours")
    index.remove_document("delivery")
    assert index.size() == 0 and index.search("delivery") == []


def test_a_document_id_that_could_escape_the_folder_is_refused(index):
    with pytest.raises(ValueError):
        index.replace_document("../escape", "x", [{"text": "x"}])
    with pytest.raises(ValueError):
        index.remove_document("")


def test_a_second_instance_sees_the_first_ones_change(tmp_path):
    writer = LocalKnowledgeIndex(tmp_path / "knowledge")
    reader = LocalKnowledgeIndex(tmp_path / "knowledge")
    assert reader.search("refund") == []  # nothing yet (and an empty generation is loaded)
    fill(writer)
    assert reader.search("refund")[0].passage.document_id == "returns"
    writer.replace_document("returns", "Returns", [{"heading": "Refunds", "location": "Returns › Refunds",
                                                     "text": "Refunds are now paid as store credit."}])
    hit = reader.search("refund store credit")[0]
    assert hit.passage.text == "Refunds are now paid as store credit."
    assert all("14 days" not in h.passage.text for h in reader.search("refund card 14 days"))
    writer.remove_document("returns")
    assert reader.search("refund") == [] and reader.size() == 4


def test_a_new_instance_answers_from_the_saved_index(index, tmp_path):
    root = tmp_path / "knowledge"
    queries = ["How much does delivery cost?", "Are you open on Christmas Day?", "refund card", "Do you deliver to France?"]
    before = [[(h.passage, h.score, h.coverage) for h in index.search(q)] for q in queries]
    shutil.rmtree(root / "chunks")  # the per-document passages and tokens: a fresh instance does not need them
    fresh = LocalKnowledgeIndex(root)
    assert fresh.size() == 5
    assert [[(h.passage, h.score, h.coverage) for h in fresh.search(q)] for q in queries] == before


def test_writers_in_two_instances_and_a_reader_never_collide(tmp_path):
    """Two indexes on one folder (as the app and the CLI are) write while a third reads: no read fails, none mixes
    generations, and every document written is found at the end."""
    import threading

    writers = [LocalKnowledgeIndex(tmp_path), LocalKnowledgeIndex(tmp_path)]
    reader = LocalKnowledgeIndex(tmp_path)
    errors: list[BaseException] = []
    done = threading.Event()

    def write(index, start):
        try:
            for number in range(start, start + 8):
                index.replace_document(f"doc-{number}", f"Doc {number}",
                                       [{"heading": "H", "location": "H", "text": f"zebra{number} grazes near the river"}])
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    def read():
        while not done.is_set():
            try:
                for hit in reader.search("zebra grazes river", 3):
                    assert hit.passage.text.startswith("zebra")
            except BaseException as error:  # noqa: BLE001
                errors.append(error)
                return

    threads = [threading.Thread(target=write, args=(writers[0], 0)), threading.Thread(target=write, args=(writers[1], 100))]
    watcher = threading.Thread(target=read)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    watcher.join()
    assert errors == []
    assert reader.document_ids() == {f"doc-{n}" for n in (*range(8), *range(100, 108))}
    assert len(list((tmp_path / "index").iterdir())) <= 2  # old generations are cleared
