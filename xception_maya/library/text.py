"""Which labels a few words mean: label names and, for ImageNet's classes, their synonyms.

``xception_maya/data/imagenet_synonyms.txt`` lists each ImageNet class's WordNet lemmas
("tabby, tabby cat"; "sports car, sport car"). Words match a label when every word appears
in the label's name or in one of its synonyms, ignoring case and a plain English plural.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

SYNONYMS_FILE = Path(__file__).resolve().parent.parent / "data" / "imagenet_synonyms.txt"
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> frozenset[str]:
    return frozenset(_singular(w) for w in _WORD.findall(text.casefold()))


def _singular(word: str) -> str:
    if len(word) <= 3 or not word.endswith("s") or word.endswith("ss"):
        return word
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]  # glasses, boxes, benches, dishes
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1]


@functools.cache
def synonyms() -> dict[str, tuple[str, ...]]:
    """ImageNet class name (case-folded) -> its names, the class name first."""
    out: dict[str, tuple[str, ...]] = {}
    if not SYNONYMS_FILE.is_file():
        return out
    for line in SYNONYMS_FILE.read_text("utf8").splitlines():
        if line.strip() and not line.startswith("#"):
            names = tuple(n.strip() for n in line.split(",") if n.strip())
            out.setdefault(names[0].casefold(), names)
    return out


def names_of(label: str) -> tuple[str, ...]:
    return synonyms().get(label.casefold(), (label,))


def matching_labels(query: str, labels: Iterable[str]) -> list[str]:
    """The labels among ``labels`` that ``query`` names, in their given order."""
    wanted = words(query)
    if not wanted:
        return []
    return [label for label in labels if any(wanted <= words(name) for name in names_of(label))]
