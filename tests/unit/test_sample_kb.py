"""The sample knowledge base (Northwind Home & Garden's handbook) and the two 30-question sets bench/ai_eval.py asks
of it (the tuning set and the held-out set): the files are titled Markdown, every answerable question's phrase is in
its document and survives extraction into one passage, each set has its mix of direct, paraphrased and unanswerable
questions, and the held-out set repeats no tuning question."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "backend" / "services" / "ai" / "sample_kb"
QUESTIONS = ROOT / "bench" / "ai_eval_questions.json"
HELDOUT = ROOT / "bench" / "ai_eval_heldout.json"
SETS = (QUESTIONS, HELDOUT)
FILES = ("contact-support", "delivery", "opening-hours", "payment-methods", "pricing", "returns-and-refunds")


def normalised(text: str) -> str:
    return " ".join(text.lower().split())


def questions(path: Path = QUESTIONS) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def answerable() -> list:
    """Every answerable question of both sets, each as a pytest param named by its set and question."""
    return [pytest.param(q, id=f"{path.stem}: {q['question']}") for path in SETS for q in questions(path)
            if q["answerable"]]


def test_the_handbook_is_six_markdown_files():
    assert sorted(path.stem for path in FOLDER.glob("*.md")) == list(FILES)


@pytest.mark.parametrize("name", FILES)
def test_each_file_starts_with_a_title_and_has_sections(name):
    lines = (FOLDER / f"{name}.md").read_text(encoding="utf-8").splitlines()
    assert re.fullmatch(r"# \S.*", lines[0]), lines[0]
    assert sum(1 for line in lines if line.startswith("# ")) == 1
    assert sum(1 for line in lines if line.startswith("## ")) >= 3


def test_the_sample_documents_carry_the_titles():
    from backend.services.ai.sample import sample_documents

    titles = {Path(d.filename).stem: d.title for d in sample_documents()}
    assert titles == {name: (FOLDER / f"{name}.md").read_text(encoding="utf-8").splitlines()[0][2:].strip()
                      for name in FILES}


def test_phone_numbers_are_in_the_ranges_reserved_for_drama():
    text = " ".join((FOLDER / f"{name}.md").read_text(encoding="utf-8") for name in FILES)
    numbers = re.findall(r"(?:\+44|\b0)[\d ]{9,13}\d", text)
    assert numbers
    for number in numbers:
        digits = re.sub(r"\D", "", number).removeprefix("44").lstrip("0")
        assert digits.startswith(("2079460", "7700900")), number  # Ofcom: 020 7946 0xxx, 07700 900xxx


@pytest.mark.parametrize("path", SETS, ids=lambda path: path.name)
def test_the_question_set_is_well_formed(path):
    entries = questions(path)
    assert len(entries) == 30
    assert len({normalised(q["question"]) for q in entries}) == 30
    for q in entries:
        assert set(q) == {"question", "answerable", "document", "passage", "kind"}, q
        assert q["kind"] in ("direct", "paraphrase", "unanswerable"), q
        assert q["answerable"] is (q["kind"] != "unanswerable"), q
        if q["answerable"]:
            assert q["document"] in FILES, q
            assert 3 <= len(q["passage"].split()) <= 8, q
        else:
            assert q["document"] is None and q["passage"] is None, q
    kinds = Counter(q["kind"] for q in entries)
    assert kinds["unanswerable"] >= 7
    assert kinds["direct"] >= 10 and kinds["paraphrase"] >= 8


def test_the_held_out_set_repeats_no_tuning_question():
    tuning = {normalised(q["question"]) for q in questions(QUESTIONS)}
    assert not [q["question"] for q in questions(HELDOUT) if normalised(q["question"]) in tuning]


@pytest.mark.parametrize("q", answerable())
def test_each_passage_phrase_is_in_its_document(q):
    text = (FOLDER / f"{q['document']}.md").read_text(encoding="utf-8")
    assert normalised(q["passage"]) in normalised(text)


@pytest.mark.parametrize("q", answerable())
def test_each_passage_phrase_survives_extraction_into_one_passage(q):
    """What bench/ai_eval.py matches a hit against: the indexed passage's text (Markdown emphasis gone)."""
    from backend.services.ai.kb_text import passages_of

    path = FOLDER / f"{q['document']}.md"
    passages = passages_of(path.name, path.read_bytes(), "text/markdown")
    assert any(normalised(q["passage"]) in normalised(p["text"]) for p in passages)
