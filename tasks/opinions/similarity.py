"""Near-identical suggestions, flagged on the joint meeting's agenda so it can merge them."""

import re

_NOISE = re.compile(r"[\s\W\d_]+|^(建议|希望|请|要求)")


def _bigrams(text: str) -> set[str]:
    text = _NOISE.sub("", text)
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


def similar_pairs(opinions: list[tuple[int, str]], threshold: float = 0.6) -> dict[int, int]:
    """For suggestions of one community: id → the id of an earlier suggestion worded nearly the same
    (character-bigram Jaccard similarity of at least `threshold`, ignoring punctuation and digits)."""
    grams = [(oid, _bigrams(text)) for oid, text in opinions]
    similar = {}
    for i, (oid, mine) in enumerate(grams):
        for other, theirs in grams[:i]:
            if len(mine & theirs) >= threshold * len(mine | theirs):
                similar[oid] = other
                break
    return similar
