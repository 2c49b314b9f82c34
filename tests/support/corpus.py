"""The labelled revocation corpus in tests/data/revocation, shared by the tests and the benchmark.

Two parts: `development`, which the detector may be tuned to, and `held_out`, which it must not
be (only its scores are printed, never its messages). A message counts as read as a request to
stop when the whole inbound decision opts the contact out, or flags it, for an account with
every language pack on: keywords, their misspellings and phrases alike, as the webhook decides.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "data" / "revocation"
PARTS = ("development", "held_out")


@dataclass(frozen=True)
class Labelled:
    expected: bool
    language: str
    message: str


@dataclass
class Scores:
    hits: int = 0
    false_positives: list[Labelled] = field(default_factory=list)
    misses: list[Labelled] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = self.hits + len(self.false_positives)
        return self.hits / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.hits + len(self.misses)
        return self.hits / wanted if wanted else 1.0


def revocation_corpus(part: str) -> list[Labelled]:
    """Every labelled line of one part."""
    rows = []
    for line in (CORPUS / f"{part}.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, language, message = line.split("\t", 2)
        rows.append(Labelled(label == "1", language, message.replace("\\n", "\n")))
    return rows


def score(read: Callable[[str], bool], rows: list[Labelled]) -> Scores:
    """How well `read` (whether a message asks to stop) agrees with the labels."""
    scores = Scores()
    for row in rows:
        found = read(row.message)
        if found and not row.expected:
            scores.false_positives.append(row)
        elif row.expected and not found:
            scores.misses.append(row)
        elif found:
            scores.hits += 1
    return scores
