"""The sample knowledge base that ships with the app: a fictional shop's handbook (Northwind Home & Garden), for
a first look at AI answers on an empty install and for the tests and bench/ai_eval.py. Markdown files in
sample_kb/, each titled by its first `# ` line."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).with_name("sample_kb")


@dataclass(frozen=True)
class SampleDocument:
    filename: str
    title: str
    data: bytes
    mime_type: str = "text/markdown"

    @property
    def document_id(self) -> str:
        """Stable, so loading the sample twice finds the documents it loaded before."""
        return "sample-" + Path(self.filename).stem


def sample_documents() -> list[SampleDocument]:
    documents = []
    for path in sorted(FOLDER.glob("*.md")):
        data = path.read_bytes()
        first = next((line for line in data.decode().splitlines() if line.startswith("# ")), path.stem)
        documents.append(SampleDocument(path.name, first.removeprefix("# ").strip(), data))
    return documents
