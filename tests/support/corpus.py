"""The labelled revocation corpus in tests/data, shared by the tests and the benchmark."""

from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "data" / "revocation_corpus.tsv"


def revocation_corpus() -> list[tuple[bool, str]]:
    """(is a revocation, message) for every labelled line."""
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, message = line.split("\t", 1)
        rows.append((label == "1", message.replace("\\n", "\n")))
    return rows


def precision_and_recall(detect) -> tuple[float, float, list[str], list[str]]:
    """Scores of `detect` on the corpus, with its false positives and misses."""
    false_positives, misses, hits = [], [], 0
    for expected, message in revocation_corpus():
        found = detect(message) is not None
        if found and not expected:
            false_positives.append(message)
        elif expected and not found:
            misses.append(message)
        elif found:
            hits += 1
    precision = hits / (hits + len(false_positives)) if hits + len(false_positives) else 1.0
    recall = hits / (hits + len(misses)) if hits + len(misses) else 1.0
    return precision, recall, false_positives, misses
