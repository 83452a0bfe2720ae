"""What a knowledge-base search returns, whichever index answered (the local bm25s index or a Bedrock knowledge
base): passages with their source, best first. Kept apart from the indexes so a reader of results (a Lambda
that calls Bedrock) does not load the local index's libraries."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Passage:
    chunk_id: str
    document_id: str
    title: str
    heading: str
    location: str  # where in the document: "Delivery › Areas", "page 3", an S3 URI
    text: str


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # the index's own (BM25 locally; Bedrock's relevance score)
    coverage: float  # 0..1: how much of the question the passage holds (locally; Bedrock: its relevance score)
    weights: dict[str, float] = field(default_factory=dict, compare=False, repr=False)  # the query's terms: idf (local)
    missing: tuple[str, ...] = ()  # the question's terms the passage does not hold, heaviest first (local)
    holds_key: bool = True  # the passage holds the question's heaviest term (local; Bedrock: always)
    # the question's terms → the terms that count for each (itself and its thesaurus group) (local; Bedrock: none)
    concepts: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)
