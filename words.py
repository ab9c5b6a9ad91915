"""The word catalogues (catalogue/<locale>.toml): one per language, holding every label the app
shows (the domain's enumerations, the figures of a stage run, the year's summary). Code names a
word by its section and key; a missing word shows as its key."""

import tomllib
from functools import cache
from pathlib import Path

CATALOGUES = Path(__file__).parent / "catalogue"
CHINESE = "zh_CN"


@cache
def catalogue(locale: str = CHINESE) -> dict[str, dict[str, str]]:
    path = CATALOGUES / f"{locale}.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def word(section: str, key: str, locale: str = CHINESE) -> str:
    return catalogue(locale).get(section, {}).get(key, key)


def section(name: str, locale: str = CHINESE) -> dict[str, str]:
    return catalogue(locale).get(name, {})


@cache
def any_label(locale: str = CHINESE) -> dict[str, str]:
    """Every enumeration member's label by its value, across enumerations (a template names a value
    without its enumeration); the figures' and summary's sections are not enumerations."""
    labels: dict[str, str] = {}
    for name, words in catalogue(locale).items():
        if name not in ("results", "summary"):
            for key, text in words.items():
                labels.setdefault(key, text)  # a value two enumerations share keeps the first one's label
    return labels
