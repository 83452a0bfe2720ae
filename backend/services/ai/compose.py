"""The local answer: extractive and honest. It quotes the retrieved passages' own sentences that meet the
question, cites the passages they came from, and declines when the knowledge base does not hold the answer.

Declining: a passage's `coverage` (backend/adapters/knowledge_index.py) is the share of the question's weight it
holds, rarer words weighing more. Below MIN_COVERAGE the best passage misses what the question is about (in
"Do you deliver to France?" the rare word is "France"), and the answer is a plain "the knowledge base has no
answer", never a guess. The question's words must also meet in one place of that passage: a sentence and the next,
read under their section heading (`focus`); the first of the hits where they do answers. A passage that names the dog in one sentence and the shop in another
("Can I bring my dog into the shop?" against a product page's "dog bed" and its "our three shops") is about
neither question. The confidence reported is the passage's coverage. bench/ai_eval.py measures both sides: the
answerable questions answered from the right passage, and the unanswerable ones declined.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from backend.adapters.knowledge_hits import Hit
from backend.adapters.knowledge_index import tokens
from backend.services.ai.kb_text import sentences

MIN_COVERAGE = 0.5  # of the question's weight, held by the best passage and by one place in it
KEY_COVERAGE = 0.75  # below it, the best passage must also hold the question's heaviest word
MAX_SENTENCES = 3
NO_ANSWER = "The knowledge base has no answer to this question."


@dataclass(frozen=True)
class Composed:
    answered: bool
    confidence: float  # 0..1
    answer: str  # the quoted sentences, with [n] citations; NO_ANSWER when declined
    cited: list[Hit] = field(default_factory=list)  # the passages the answer quotes, [1] first
    reason: str = ""  # why it declined


def _units(text: str) -> list[tuple[int, str]]:
    """A passage's sentences with the line each stands on: a list item or a table line is a sentence of its own
    (ended with a full stop), and the answer keeps the line breaks between them."""
    units = [(number, sentence) for number, line in enumerate(text.split("\n")) for sentence in sentences(line)]
    return [(number, unit if unit[-1:] in ".!?:;" else f"{unit}.") for number, unit in units]


def focus(query: str, hit: Hit) -> float:
    """The share of the question's weight held by the best place of the passage: two adjacent sentences (or lines)
    with the section heading they stand under. 1.0 when the index reports no concepts (a Bedrock hit)."""
    if not hit.concepts:
        return 1.0
    weights = {term: hit.weights.get(term, 0.0) for term in hit.concepts}
    total = sum(weights.values()) or 1.0
    heading = set(tokens(hit.passage.heading))
    units = [set(tokens(sentence)) for _line, sentence in _units(hit.passage.text)] or [set()]
    best = 0.0
    for at in range(len(units)):
        place = heading.union(*units[at:at + 2])
        best = max(best, sum(weights[term] for term, counting in hit.concepts.items() if counting & place) / total)
    return best


def answer_from(query: str, hits: list[Hit], min_coverage: float = MIN_COVERAGE) -> Composed:
    if not hits:
        return Composed(False, 0.0, NO_ANSWER, reason="No passage in the knowledge base shares a word with the question.")
    best = hits[0]
    if best.coverage < min_coverage:
        return Composed(False, round(best.coverage, 3), NO_ANSWER,
                        reason=f"The closest passage (“{best.passage.heading or best.passage.title}”) covers "
                               f"{best.coverage:.0%} of the question; an answer needs {min_coverage:.0%}.")
    if not best.holds_key and best.coverage < KEY_COVERAGE:
        return Composed(False, round(best.coverage, 3), NO_ANSWER,
                        reason=f"No passage speaks of “{best.missing[0] if best.missing else 'the question'}”, the word "
                               "the question turns on.")
    focused = next((hit for hit in hits if hit.coverage >= min_coverage and (hit.holds_key or hit.coverage >= KEY_COVERAGE)
                    and focus(query, hit) >= min_coverage), None)
    if focused is None:
        return Composed(False, round(best.coverage, 3), NO_ANSWER,
                        reason=f"The question's words do not meet in any one place of the closest passage "
                               f"(“{best.passage.heading or best.passage.title}”): its best two sentences cover "
                               f"{focus(query, best):.0%} of the question; an answer needs {min_coverage:.0%}.")
    # the passage where they meet answers first, the others (if they hold enough) after it
    best, hits = focused, [focused, *(hit for hit in hits if hit is not focused)]
    weights = best.weights or {term: 1.0 for term in tokens(query)}
    chosen: list[tuple[float, int, int, str]] = []  # (weight met, -hit rank, position, sentence)
    cited: list[Hit] = []
    for rank, hit in enumerate(hits):
        if rank and hit.coverage < min_coverage:
            continue
        for position, (_line, sentence) in enumerate(_units(hit.passage.text)):
            overlap = sum(weights.get(term, 0.0) for term in set(tokens(sentence)))
            if overlap:
                chosen.append((overlap, -rank, position, sentence))
    chosen.sort(key=lambda item: (-item[0], -item[1], item[2]))
    picked: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    for overlap, negative_rank, position, sentence in chosen:
        if sentence in seen or len(picked) == MAX_SENTENCES or overlap <= chosen[0][0] / 2:
            continue
        seen.add(sentence)
        picked.append((-negative_rank, position, sentence))
    if not picked:  # the question met the passage in its title or heading only: its opening sentences
        picked = [(0, position, sentence) for position, (_line, sentence) in enumerate(_units(best.passage.text)[:2])]
    picked.sort()
    lines = {rank: [line for line, _sentence in _units(hits[rank].passage.text)] for rank in {rank for rank, _p, _s in picked}}
    numbers: dict[int, int] = {}
    answer, before = "", None
    for rank, position, sentence in picked:
        if rank not in numbers:
            numbers[rank] = len(numbers) + 1
            cited.append(hits[rank])
        here = (rank, lines[rank][position])
        answer += ("" if before is None else " " if here == before else "\n") + f"{sentence} [{numbers[rank]}]"
        before = here
    return Composed(True, round(best.coverage, 3), answer, cited)
