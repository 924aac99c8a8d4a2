"""The course search index: which sections best answer a question, ranked by BM25 over stems.

Each section is one document: its title (counted `TITLE_WEIGHT` times, BM25F-style) plus its
markdown. Words are matched by their Snowball stems with case and accents ignored, so
`retrieves` finds `retrieval`; common English stop words are left out of both sides, so
"how does RAG work" ranks on `rag` and `work`. Markdown syntax needs no special handling:
the word tokeniser only sees letters and digits.

Build the index once per process (`SearchIndex.build`) and query it as often as needed; all
per-section work (stems, term frequencies, word offsets) is done at build time.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from companion.domain.content_models import Chapter, Section
from companion.domain.text import stem, word_spans, words

K1 = 1.2
B = 0.75
TITLE_WEIGHT = 3

# Target width of an excerpt in characters. Its ends move by up to _SNAP characters to the
# nearest line or sentence boundary, or failing that to whitespace between words.
EXCERPT_WIDTH = 250
_SNAP = 40

# Compared with normalised words (case folded, apostrophes dropped), before stemming.
STOP_WORDS = frozenset(
    """
    a about above after again all also am an and any are as at be because been before being
    between both but by could did didnt do does doesnt doing dont down during each few for
    from further had has have having he her here hers herself him himself his how i if in into
    is isnt it its itself just me more most my myself of off on once only or other our ours
    ourselves out over own same she should so some such than that thats the their theirs them
    themselves then there these they this those through to too under until up very was we
    were what whats when where which while who whom whose why will with would you your yours
    yourself yourselves
    """.split()
)

_CHUNK = re.compile(r"\S+")


@lru_cache(maxsize=65_536)
def _chunk_word_spans(chunk: str) -> tuple[tuple[str, int, int], ...]:
    return tuple(word_spans(chunk))


def _spans(text: str) -> list[tuple[str, int, int]]:
    """Same as `word_spans(text)`, faster on long text.

    A word never contains whitespace, so the text is tokenised one whitespace-separated chunk
    at a time and each distinct chunk is normalised only once.
    """
    spans = []
    for chunk in _CHUNK.finditer(text):
        offset = chunk.start()
        for word, start, end in _chunk_word_spans(chunk.group()):
            spans.append((word, start + offset, end + offset))
    return spans


def query_stems(query: str) -> list[str]:
    """The distinct stems a query is matched on, in order; stop words are left out."""
    seen: dict[str, None] = {}
    for word in words(query):
        if word not in STOP_WORDS:
            seen.setdefault(stem(word), None)
    return list(seen)


@dataclass(frozen=True, slots=True)
class _Document:
    chapter: Chapter
    section: Section
    starts: tuple[int, ...]  # start offset of each body word in content_markdown
    ends: tuple[int, ...]
    positions: dict[str, tuple[int, ...]]  # stem -> indices of the body words with that stem
    length: int  # weighted count of indexed (non stop) words


class SearchIndex:
    def __init__(
        self,
        documents: list[_Document],
        postings: dict[str, list[tuple[int, int]]],
    ) -> None:
        self._documents = documents
        self._postings = postings
        count = len(documents)
        average_length = sum(doc.length for doc in documents) / count if count else 0.0
        self._length_norms = [
            K1 * (1 - B + B * doc.length / average_length) if average_length else K1
            for doc in documents
        ]
        # BM25's idf in the form that is never negative (as Lucene uses).
        self._idf = {
            term: math.log(1 + (count - len(docs) + 0.5) / (len(docs) + 0.5))
            for term, docs in postings.items()
        }

    @classmethod
    def build(cls, chapters: list[Chapter]) -> SearchIndex:
        documents: list[_Document] = []
        postings: dict[str, list[tuple[int, int]]] = {}
        for chapter in sorted(chapters, key=lambda c: c.chapter_number):
            for section in chapter.sections_in_order():
                term_frequencies: dict[str, int] = {}
                length = 0
                for word in words(section.title):
                    if word not in STOP_WORDS:
                        term = stem(word)
                        term_frequencies[term] = term_frequencies.get(term, 0) + TITLE_WEIGHT
                        length += TITLE_WEIGHT
                starts, ends = [], []
                positions: dict[str, list[int]] = {}
                for index, (word, start, end) in enumerate(_spans(section.content_markdown)):
                    starts.append(start)
                    ends.append(end)
                    if word not in STOP_WORDS:
                        term = stem(word)
                        term_frequencies[term] = term_frequencies.get(term, 0) + 1
                        positions.setdefault(term, []).append(index)
                        length += 1
                document_number = len(documents)
                for term, frequency in term_frequencies.items():
                    postings.setdefault(term, []).append((document_number, frequency))
                documents.append(
                    _Document(
                        chapter=chapter,
                        section=section,
                        starts=tuple(starts),
                        ends=tuple(ends),
                        positions={term: tuple(found) for term, found in positions.items()},
                        length=length,
                    )
                )
        return cls(documents, postings)

    def search(self, query: str, limit: int, can_open: Callable[[Chapter], bool]) -> list[dict]:
        """The sections that best answer `query`, best first, at most `limit` of them.

        Each is `{chapter_id, chapter_title, section_id, section_title, excerpt, score,
        locked}`; `excerpt` is None for a chapter the caller cannot open. Equal scores (as
        rounded) keep the course's order: chapter number, then section order.
        """
        terms = query_stems(query)
        if limit < 1 or not terms:
            return []
        scores: dict[int, float] = {}
        for term in terms:
            idf = self._idf.get(term)
            if idf is None:
                continue
            for document_number, frequency in self._postings[term]:
                scores[document_number] = scores.get(document_number, 0.0) + idf * (
                    frequency * (K1 + 1) / (frequency + self._length_norms[document_number])
                )
        ranked = sorted(
            (-rounded, document_number)
            for document_number, score in scores.items()
            if (rounded := round(score, 4)) > 0
        )[:limit]

        openable: dict[str, bool] = {}
        results = []
        for negative_score, document_number in ranked:
            document = self._documents[document_number]
            chapter = document.chapter
            if chapter.chapter_id not in openable:
                openable[chapter.chapter_id] = bool(can_open(chapter))
            locked = not openable[chapter.chapter_id]
            results.append(
                {
                    "chapter_id": chapter.chapter_id,
                    "chapter_title": chapter.title,
                    "section_id": document.section.section_id,
                    "section_title": document.section.title,
                    "excerpt": None if locked else _excerpt(document, terms),
                    "score": -negative_score,
                    "locked": locked,
                }
            )
        return results


def _best_passage(document: _Document, terms: list[str]) -> tuple[int, int] | None:
    """Character span of the body passage, at most EXCERPT_WIDTH wide where possible, holding
    the most distinct query stems (then the most matches, then the earliest)."""
    matches = sorted((index, term) for term in terms for index in document.positions.get(term, ()))
    if not matches:
        return None
    starts, ends = document.starts, document.ends
    in_window: dict[str, int] = {}
    best_key, best = (0, 0), (0, 0)
    right = 0
    for left, (left_index, _) in enumerate(matches):
        window_start = starts[left_index]
        while right < len(matches) and (
            right == left or ends[matches[right][0]] - window_start <= EXCERPT_WIDTH
        ):
            term = matches[right][1]
            in_window[term] = in_window.get(term, 0) + 1
            right += 1
        key = (len(in_window), right - left)
        if key > best_key:
            best_key, best = key, (left, right - 1)
        left_term = matches[left][1]
        in_window[left_term] -= 1
        if not in_window[left_term]:
            del in_window[left_term]
    return starts[matches[best[0]][0]], ends[matches[best[1]][0]]


def _excerpt(document: _Document, terms: list[str]) -> str:
    """A verbatim slice of the section's markdown of about EXCERPT_WIDTH characters around the
    best passage (the section's opening when only the title matched), cut between words."""
    text = document.section.content_markdown
    starts, ends = document.starts, document.ends
    if not starts:
        return text.strip()[:EXCERPT_WIDTH]
    passage = _best_passage(document, terms)
    passage_start, passage_end = passage if passage else (starts[0], starts[0])

    spare = max(0, EXCERPT_WIDTH - (passage_end - passage_start))
    left = passage_start - spare // 2
    right = passage_end + (spare - spare // 2)
    if left < 0:
        right, left = right - left, 0
    if right > len(text):
        left, right = max(0, left - (right - len(text))), len(text)

    start = _sentence_start_near(text, left, latest=passage_start)
    if start is None:
        start = _word_start_at_or_after(text, starts, left)
    end = _sentence_end_near(text, right, earliest=passage_end)
    if end is None:
        end = _word_end_at_or_before(text, ends, right)
    return text[start:end]


def _sentence_start_near(text: str, target: int, latest: int) -> int | None:
    """The start of a line or sentence within _SNAP of `target` and not after `latest`,
    closest to `target`."""
    best = None
    for p in range(max(0, target - _SNAP), min(latest, target + _SNAP) + 1):
        if text[p].isspace():
            continue
        before = text[p - 1] if p else "\n"
        if before == "\n" or (before in " \t" and p >= 2 and text[p - 2] in ".!?"):
            if best is None or abs(p - target) < abs(best - target):
                best = p
    return best


def _sentence_end_near(text: str, target: int, earliest: int) -> int | None:
    """The end of a line or sentence within _SNAP of `target` and not before `earliest`,
    closest to `target`."""
    best = None
    for p in range(max(1, earliest, target - _SNAP), min(len(text), target + _SNAP) + 1):
        last = text[p - 1]
        if last.isspace():
            continue
        after = text[p] if p < len(text) else "\n"
        if after == "\n" or (last in ".!?" and after.isspace()):
            if best is None or abs(p - target) < abs(best - target):
                best = p
    return best


def _word_start_at_or_after(text: str, starts: tuple[int, ...], left: int) -> int:
    """The first word starting at or after `left`, widened back to the whitespace before it
    so "**RAG**" or "fine-tuning" stay whole (unless that is a long run such as a URL)."""
    start = starts[bisect_left(starts, left)]
    reach = start
    while reach > 0 and not text[reach - 1].isspace() and start - reach < _SNAP:
        reach -= 1
    return reach if reach == 0 or text[reach - 1].isspace() else start


def _word_end_at_or_before(text: str, ends: tuple[int, ...], right: int) -> int:
    end = ends[bisect_right(ends, right) - 1]
    reach = end
    while reach < len(text) and not text[reach].isspace() and reach - end < _SNAP:
        reach += 1
    return reach if reach == len(text) or text[reach].isspace() else end
