"""Near-duplicate suggestions: precision and recall of the agenda's rule on labelled pairs.

    python benchmarks/similarity.py

`data/suggestion_pairs.tsv` holds 64 pairs of realistic suggestions: 32 rewordings of one request
(the joint meeting would merge them) and 32 near misses (same place, another request; same
request, another place). Printed side by side: the former rule (character-bigram Jaccard >= 0.6),
rapidfuzz's normalised Indel ratio (a well-kept library), and the rule the agenda uses now."""

import re
import time
from pathlib import Path

from rapidfuzz import fuzz

from lianchuang.tasks.opinions import similarity

PAIRS = Path(__file__).parent / "data" / "suggestion_pairs.tsv"
_NOISE = re.compile(r"[\s\W\d_]+|^(建议|希望|请|要求)")


def former_rule(first: str, second: str) -> float:
    """Character-bigram Jaccard similarity, as the agenda computed it before this round."""
    grams = [{t[i:i + 2] for i in range(len(t) - 1)} or {t} for t in (_NOISE.sub("", first), _NOISE.sub("", second))]
    return len(grams[0] & grams[1]) / len(grams[0] | grams[1])


def rapidfuzz_ratio(first: str, second: str) -> float:
    return fuzz.ratio("".join(similarity.characters(first).elements()), "".join(similarity.characters(second).elements())) / 100


def current_rule(first: str, second: str) -> float:
    return similarity.similarity(similarity.characters(first), similarity.characters(second))


def measure(rule, threshold: float, pairs) -> tuple[float, float, float]:
    start = time.perf_counter()
    flagged = [(rule(first, second) >= threshold, same) for same, first, second in pairs]
    seconds = time.perf_counter() - start
    true = sum(1 for f, same in flagged if f and same)
    precision = true / max(1, sum(1 for f, _ in flagged if f))
    recall = true / sum(1 for _, same in flagged if same)
    return precision, recall, seconds


def load_pairs(path: Path = PAIRS) -> list[tuple[bool, str, str]]:
    rows = [line.rstrip("\n").split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line[:1] in "01"]
    return [(label == "1", first, second) for label, first, second in rows]


def main() -> None:
    pairs = load_pairs()
    print(f"{len(pairs)} labelled pairs ({sum(s for s, _, _ in pairs)} rewordings, {sum(not s for s, _, _ in pairs)} near misses)")
    print(f"{'rule':<48}{'precision':>10}{'recall':>8}{'ms':>8}")
    for name, rule, threshold in (("former: character-bigram Jaccard >= 0.6", former_rule, 0.6),
                                  ("rapidfuzz ratio >= 0.5 (content characters)", rapidfuzz_ratio, 0.5),
                                  ("rapidfuzz ratio >= 0.4", rapidfuzz_ratio, 0.4),
                                  (f"now: content-character cosine >= {similarity.THRESHOLD}", current_rule, similarity.THRESHOLD)):
        precision, recall, seconds = measure(rule, threshold, pairs)
        print(f"{name:<48}{precision:>10.2f}{recall:>8.2f}{seconds * 1000:>8.1f}")


if __name__ == "__main__":
    main()
