"""Text normalisation and word stems, shared by the grader and the search index.

Both sides of every comparison go through `normalise` first: Unicode NFKC, curly quotes and
dashes as plain ones, accents dropped, case folded.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_PUNCTUATION_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
    }
)

# A word is a run of letters and digits; apostrophes inside a word are dropped
# ("model's" -> "models"), every other character separates words.
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def is_valid_text(text: str) -> bool:
    """Whether `text` can be stored and sent back: no NUL character (Postgres refuses it)
    and no lone surrogate (half of a UTF-16 pair, which UTF-8 cannot encode)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def normalise(text: str) -> str:
    if text.isascii():
        return text.casefold()  # nothing to compose, decompose or strip: the common case
    text = unicodedata.normalize("NFKC", text).translate(_PUNCTUATION_MAP)
    decomposed = unicodedata.normalize("NFKD", text)
    without_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", without_accents).casefold()


def words(text: str) -> list[str]:
    """The normalised words of `text`, in order."""
    return [word.replace("'", "") for word in _WORD.findall(normalise(text))]


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """Normalised words with their (start, end) offsets in `text` itself.

    Normalisation can change lengths, so offsets are found on the original text with the
    same pattern; each match is normalised on its own.
    """
    spans = []
    for match in _WORD.finditer(text):
        for word in words(match.group()):
            spans.append((word, match.start(), match.end()))
    return spans


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    return _stemmer().stemWord(word)


def stems(text: str) -> list[str]:
    return [stem(word) for word in words(text)]


def stems_of_words(many: list[str]) -> list[str]:
    """The stems of many words in one call (the C stemmer's batch API: no per-word cost)."""
    return _stemmer().stemWords(many)


def normalised_length_over(text: str, limit: int) -> bool:
    """Whether `normalise(text)` is longer than `limit` characters, at a cost bounded by
    `limit` whatever the text: compatibility forms can grow a character into 18
    (U+FDFA), so the text is measured piece by piece and given up on early."""
    if text.isascii():
        return len(text) > limit
    piece = 256
    measured = 0
    for start in range(0, len(text), piece):
        # Pieces normalised apart can only be longer than the whole (nothing composes
        # across a cut) by a few characters per cut: far past the limit is past it.
        measured += len(unicodedata.normalize("NFKC", text[start : start + piece]))
        if measured > 2 * limit + 16 * (start // piece + 1):
            return True
    return len(normalise(text)) > limit
