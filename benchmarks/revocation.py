"""Precision and recall of the revocation phrase detector on the labelled corpus.

.venv/bin/python benchmarks/revocation.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from keywords.revocation import detect_revocation
from tests.support.corpus import precision_and_recall, revocation_corpus


def main() -> None:
    corpus = revocation_corpus()
    positives = sum(1 for expected, _ in corpus if expected)
    precision, recall, false_positives, misses = precision_and_recall(detect_revocation)
    print(f"Corpus: {len(corpus)} messages, {positives} revocations, {len(corpus) - positives} not")
    print(f"Precision: {precision:.3f}  Recall: {recall:.3f}")
    for message in false_positives:
        print(f"  false positive: {message!r}")
    for message in misses:
        print(f"  missed: {message!r}")


if __name__ == "__main__":
    main()
