"""The local knowledge-base index: BM25 ranking by bm25s over the documents' passages, kept under
`<data_dir>/knowledge`.

- `chunks/<documentId>.json`: one document's passages (text, heading, location) with their tokens. A document
  that changes rewrites only its own file: its text is extracted, chunked and tokenized again, nobody else's.
- `index/<generation>/`: the BM25 matrix bm25s built over every passage (bm25s' own `save` format) and
  `passages.json`, the passages in the matrix's order; written once, never changed. Rebuilding the matrix from
  the token files takes milliseconds (1,000 passages: see bench/ai_eval.py), so each change rebuilds it.
- `generation`: names the directory in force; written last, atomically. A reader loads only that directory
  (passages and matrix of one generation), and loads again when the name changes (another thread or process
  wrote). Writers hold `.lock` (fcntl), so the CLI and the app never rebuild at once.

Tokens: bm25s' tokenizer with its larger English stop-word list and the Snowball English stemmer
(PyStemmer), the same for passages and queries, so "opening", "opens" and "open" meet.

`coverage` is the share of a query's weight a passage holds: the inverse document frequencies of the query
terms it contains over those of all the query's terms (a term no passage has weighs as a term in none). It is
what the answer composer declines by: a question whose rarest words appear nowhere is not answered.
"""
from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from backend.adapters.knowledge_hits import Hit, Passage

# bm25s' larger English list, and the words a question is asked with, which say nothing of what it is about
# ("how much", "anything", "please"): left in, a word no passage holds would weigh most in the question.
STOPWORDS = sorted(set(STOPWORDS_EN_PLUS) | {
    "anything", "anyone", "could", "do", "does", "enough", "get", "got", "hello", "hi", "how", "know", "like", "many",
    "much", "need", "please", "something", "tell", "thank", "thanks", "want", "way", "what", "when", "where", "which",
    "who", "why", "would", "you", "your", "yours", "can", "i", "me", "my", "we", "us", "our", "ok",
    # and the conversation around it: "Sorry, one more thing:", "Hiya, quick question", "Cheers"
    "actually", "also", "any", "bit", "cheers", "dear", "excuse", "good", "great", "guys", "hey", "hiya",
    "just", "kind", "kindly", "let", "lot", "maybe", "morning", "afternoon", "evening", "one", "question",
    "quick", "really", "regards", "sorry", "still", "sure", "team", "thing", "things", "wonder", "wondering",
    "time",  # "what time do you…" asks when

})
_STEMMER = Stemmer.Stemmer("english")
THESAURUS = Path(__file__).with_name("knowledge_thesaurus.txt")
RERANK = 10  # BM25's best this many are ordered by coverage


def tokens(text: str) -> list[str]:
    """The index's terms of `text` (lower-cased, stop words out, stemmed)."""
    if not text or not text.strip():
        return []
    return bm25s.tokenize([text], stopwords=STOPWORDS, stemmer=_STEMMER, return_ids=False, show_progress=False)[0]


def load_thesaurus(path: Path = THESAURUS) -> dict[str, frozenset[str]]:
    """Stemmed term -> the stemmed terms of its groups (itself excluded)."""
    groups: dict[str, set[str]] = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        terms = {term for word in line.split(",") for term in tokens(word)}
        for term in terms:
            groups.setdefault(term, set()).update(terms - {term})
    return {term: frozenset(others) for term, others in groups.items()}


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _Loaded:
    """One generation of the index in memory."""

    def __init__(self, generation: str, retriever: bm25s.BM25 | None, passages: list[Passage],
                 passage_terms: list[frozenset[str]]):
        self.generation = generation
        self.retriever = retriever
        self.passages = passages
        self.passage_terms = passage_terms
        frequency: Counter[str] = Counter()
        for terms in passage_terms:
            frequency.update(terms)
        self.document_frequency = frequency

    def idf(self, term: str) -> float:
        total = len(self.passages)
        found = self.document_frequency.get(term, 0)
        return math.log(1 + (total - found + 0.5) / (found + 0.5))


class LocalKnowledgeIndex:
    """Writers (threads or processes) take the index's file lock; each rebuild writes a new generation directory
    `index/<generation>/` that never changes, then points `generation` at it (an atomic rename). A reader loads
    only the directory the pointer names, so it never mixes the passages of one generation with the matrix of
    another, and a rebuild never pulls a directory from under it (the one before stays until the next)."""

    def __init__(self, root: Path, thesaurus: dict[str, frozenset[str]] | None = None):
        self.root = Path(root)
        self._thesaurus = load_thesaurus() if thesaurus is None else thesaurus
        self._chunks = self.root / "chunks"
        self._index = self.root / "index"
        self._generation = self.root / "generation"
        self._write_lock = threading.Lock()
        self._loaded: _Loaded | None = None
        self._load_lock = threading.Lock()

    @contextmanager
    def _writing(self):
        """This process's threads one at a time, and other processes (the CLI beside the app) too."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._write_lock, open(self.root / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # --- writing -------------------------------------------------------------------------------------------
    def replace_document(self, document_id: str, title: str, passages: list[dict[str, str]]) -> int:
        """Put a document's passages (each {"heading", "location", "text"}) in place of its old ones; returns how
        many are indexed."""
        rows = []
        for number, passage in enumerate(passages):
            text = passage["text"]
            rows.append({"chunkId": f"{document_id}#{number}", "heading": passage.get("heading", ""),
                         "location": passage.get("location", ""), "text": text,
                         "tokens": tokens(f"{title}\n{passage.get('heading', '')}\n{text}")})
        body = {"documentId": document_id, "title": title, "passages": rows}
        with self._writing():
            _write_atomic(self._chunks / f"{_safe(document_id)}.json", json.dumps(body).encode())
            self._rebuild()
        return len(rows)

    def remove_document(self, document_id: str) -> None:
        with self._writing():
            (self._chunks / f"{_safe(document_id)}.json").unlink(missing_ok=True)
            self._rebuild()

    def document_ids(self) -> set[str]:
        """The documents the index answers from now (its current generation's)."""
        return {passage.document_id for passage in self._current().passages}

    def _rebuild(self) -> None:
        passages: list[Passage] = []
        corpus: list[list[str]] = []
        for path in sorted(self._chunks.glob("*.json")) if self._chunks.exists() else ():
            document = json.loads(path.read_text())
            for row in document["passages"]:
                passages.append(Passage(row["chunkId"], document["documentId"], document["title"], row["heading"],
                                        row["location"], row["text"]))
                corpus.append(row["tokens"])
        generation = f"{time.time_ns():x}-{os.getpid()}-{os.urandom(4).hex()}"
        self._index.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self._index, prefix=".new-"))
        try:
            if passages:
                retriever = bm25s.BM25()
                retriever.index(corpus, show_progress=False)
                retriever.save(str(staging), show_progress=False)
            meta = [{"chunkId": p.chunk_id, "documentId": p.document_id, "title": p.title, "heading": p.heading,
                     "location": p.location, "text": p.text, "terms": sorted(set(terms))}
                    for p, terms in zip(passages, corpus)]
            (staging / "passages.json").write_text(json.dumps(meta))
            os.replace(staging, self._index / generation)
        except BaseException:
            _remove_tree(staging)
            raise
        previous = self._pointer()
        _write_atomic(self._generation, generation.encode())
        for old in self._index.iterdir():  # keep the new one and the one before (a reader may still be loading it)
            if old.name not in (generation, previous):
                _remove_tree(old)

    # --- reading -------------------------------------------------------------------------------------------
    def _pointer(self) -> str:
        try:
            return self._generation.read_text().strip()
        except FileNotFoundError:
            return ""

    def _current(self) -> _Loaded:
        for _attempt in range(3):
            generation = self._pointer()
            loaded = self._loaded
            if loaded is not None and loaded.generation == generation:
                return loaded
            with self._load_lock:
                if self._loaded is not None and self._loaded.generation == generation:
                    return self._loaded
                try:
                    self._loaded = self._load(generation)
                except FileNotFoundError:
                    continue  # two rebuilds passed while it loaded: read the pointer again
                return self._loaded
        raise OSError("the knowledge index kept changing while it was read")

    def _load(self, generation: str) -> _Loaded:
        folder = self._index / generation
        if not generation:
            return _Loaded(generation, None, [], [])
        meta = json.loads((folder / "passages.json").read_text())
        passages = [Passage(m["chunkId"], m["documentId"], m["title"], m["heading"], m["location"], m["text"])
                    for m in meta]
        retriever = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0) if passages else None
        return _Loaded(generation, retriever, passages, [frozenset(m["terms"]) for m in meta])

    def size(self) -> int:
        return len(self._current().passages)

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """The k best passages for `query`, best first (none when no passage shares a term with it).

        Each word of the question is a concept: itself and its thesaurus group. A passage holds the concept when
        it holds any of them; the concept weighs its own inverse document frequency (a word the index has
        never seen weighs as a word in no passage, unless words of its group are known: then their mean)."""
        loaded = self._current()
        terms = list(dict.fromkeys(tokens(query)))
        if loaded.retriever is None or not terms:
            return []
        frequency = loaded.document_frequency
        concepts: dict[str, frozenset[str]] = {}
        for term in terms:
            concepts[term] = frozenset(t for t in {term, *self._thesaurus.get(term, ())} if t in frequency)
        searched = list(dict.fromkeys(t for known in concepts.values() for t in sorted(known)))
        if not searched:
            return []
        weights = {term: loaded.idf(term) if term in frequency else
                   (sum(loaded.idf(t) for t in known) / len(known) if known else loaded.idf(term))
                   for term, known in concepts.items()}
        total = sum(weights.values()) or 1.0
        scores: np.ndarray = loaded.retriever.get_scores(searched)
        candidates = np.argsort(-scores, kind="stable")[:max(k, RERANK)]
        by_weight = sorted(weights, key=lambda term: -weights[term])
        sentence_weights = {t: weights[term] for term, known in concepts.items() for t in {term, *known}}
        groups = {term: frozenset({term, *known}) for term, known in concepts.items()}
        hits = []
        for position in candidates:
            score = float(scores[position])
            if score <= 0:
                break
            held = loaded.passage_terms[int(position)]
            holds = {term for term, known in concepts.items() if known & held}
            coverage = sum(weights[term] for term in holds) / total
            missing = tuple(term for term in by_weight if term not in holds)
            hits.append(Hit(loaded.passages[int(position)], score, coverage, sentence_weights, missing,
                            by_weight[0] in holds, groups))
        # BM25's best RERANK, ordered by how much of the question each holds, then by BM25: a short passage
        # with most of the words can outscore a longer one that holds them all. Between equals, a document's
        # overview (the text under its title, before its first section: "This page explains …") comes after
        # the sections, which hold the facts it announces.
        hits.sort(key=lambda hit: (-round(hit.coverage, 2), _is_overview(hit.passage), -hit.score))
        return hits[:k]


def _is_overview(passage: Passage) -> bool:
    return bool(passage.heading) and passage.heading == passage.title and "›" not in passage.location


def _safe(document_id: str) -> str:
    if not document_id or not all(ch.isalnum() or ch in "-_" for ch in document_id):
        raise ValueError(f"not a document id: {document_id!r}")
    return document_id


def _remove_tree(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
