"""Deterministic quiz grading: answers are checked against the quiz file by rules, never a model.

`grade_quiz` first reads every answer (raising `InvalidAnswers` with a sentence a student can
act on), then grades: multiple-choice and true-false are right or wrong, short answers earn
partial credit for the key concepts they mention.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from companion.domain.common_words import NOT_TELLING
from companion.domain.content_models import (
    Chapter,
    MultipleChoiceQuestion,
    Quiz,
    ShortAnswerQuestion,
    TrueFalseQuestion,
)
from companion.domain.review import review_sections_of
from companion.domain.text import normalise, normalised_length_over, stem, stems_of_words, words

POINTS_PER_QUESTION = 10
MAX_SHORT_ANSWER_CHARACTERS = 2_000
CORRECT_SHORT_ANSWER_SCORE = Decimal("7.0")
_MAX_PROBLEMS_LISTED = 5


class InvalidAnswers(ValueError):
    """The answers cannot be graded; `detail` says why in words a student understands."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class QuizGrade:
    score: float
    passed: bool
    points: float
    grading_details: dict[str, dict]
    review_sections: list[dict]
    answers: dict
    # What the grader read of each answer: the option's text, true/false, a short answer's
    # normalised words, None when unanswered. Two submissions that read alike grade alike.
    as_read: dict[str, object]


# --- reading the answers -------------------------------------------------------------------


def _as_compared(text: str) -> str:
    """Text as compared for choices: normalised, surrounding and repeated spaces ignored."""
    return " ".join(normalise(text).split())


def _describe(value: object) -> str:
    """A submitted value as it can be quoted back to the student."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"  # never str() a huge int: it can be millions of digits
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        # Lone surrogates cannot be encoded in a JSON response: show them as "?".
        shown = shown.encode("utf-8", "replace").decode("utf-8")
        return json.dumps(shown, ensure_ascii=False)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "an empty value"


def _check_storable(question_id: str, value: str) -> None:
    if "\x00" in value:
        raise InvalidAnswers(
            f"Question {question_id}: the answer contains a NUL character (\\u0000), "
            "which cannot be stored; remove it and submit again."
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidAnswers(
            f"Question {question_id}: the answer contains a character that is not valid "
            "text (an unpaired surrogate); remove it and submit again."
        ) from None


def _read_multiple_choice(question: MultipleChoiceQuestion, value: object) -> str:
    """The chosen option's text, from the text itself or its letter."""
    if isinstance(value, str):
        _check_storable(question.question_id, value)
        typed = _as_compared(value)
        # Text first: an option whose text is a single letter means that option.
        for option in question.options:
            if _as_compared(option) == typed:
                return option
        letters = "abcdefghijklmnopqrstuvwxyz"[: len(question.options)]
        if len(typed) == 1 and typed in letters:
            return question.options[letters.index(typed)]
    last_letter = chr(ord("a") + len(question.options) - 1)
    options = ", ".join(json.dumps(option, ensure_ascii=False) for option in question.options)
    raise InvalidAnswers(
        f"Question {question.question_id}: {_describe(value)} is not one of the choices; "
        f"answer with a letter a-{last_letter} or the option text: {options}."
    )


def _read_true_false(question: TrueFalseQuestion, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        _check_storable(question.question_id, value)
        typed = value.strip().casefold()
        if typed in ("true", "false"):
            return typed == "true"
    raise InvalidAnswers(
        f"Question {question.question_id}: {_describe(value)} is not true or false; "
        "answer with true or false."
    )


def _read_short_answer(question: ShortAnswerQuestion, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidAnswers(
            f"Question {question.question_id}: {_describe(value)} is not a written answer; "
            f"answer in words, at most {MAX_SHORT_ANSWER_CHARACTERS:,} characters."
        )
    _check_storable(question.question_id, value)
    if len(value) > MAX_SHORT_ANSWER_CHARACTERS:
        raise InvalidAnswers(
            f"Question {question.question_id}: the answer is {len(value):,} characters long; "
            f"shorten it to at most {MAX_SHORT_ANSWER_CHARACTERS:,} characters."
        )
    # The grader reads the normalised text, where one character can become many (U+FDFA
    # is 18): the cap holds there too, so grading costs the same whatever the characters.
    if normalised_length_over(value, MAX_SHORT_ANSWER_CHARACTERS):
        raise InvalidAnswers(
            f"Question {question.question_id}: the answer is longer than "
            f"{MAX_SHORT_ANSWER_CHARACTERS:,} characters once its special characters are "
            "spelt out (ligatures, symbols that stand for words); shorten it or use plain "
            "letters."
        )
    return value


_READERS = {
    "multiple-choice": _read_multiple_choice,
    "true-false": _read_true_false,
    "short-answer": _read_short_answer,
}


def _read_answers(quiz: Quiz, answers: object) -> dict[str, object]:
    """Each question id to its answer as understood (option text, bool or text); None if
    the question was not answered. Raises InvalidAnswers naming every problem found."""
    if not isinstance(answers, dict):
        raise InvalidAnswers(
            'Answers must be an object that maps question ids to answers, like {"q1": "b"}.'
        )
    known = [question.question_id for question in quiz.questions]
    problems = [
        f"There is no question {_describe(key)} in this quiz; its questions are {', '.join(known)}."
        for key in answers
        if key not in known
    ]
    understood: dict[str, object] = {}
    for question in quiz.questions:
        value = answers.get(question.question_id)
        if value is None:
            understood[question.question_id] = None
            continue
        try:
            understood[question.question_id] = _READERS[question.type](question, value)
        except InvalidAnswers as problem:
            problems.append(problem.detail)
    if problems:
        shown = problems[:_MAX_PROBLEMS_LISTED]
        if len(problems) > len(shown):
            shown.append(f"({len(problems) - len(shown)} more problems not listed.)")
        raise InvalidAnswers(" ".join(shown))
    return understood


# --- short answers -------------------------------------------------------------------------


def _typos_allowed(word: str) -> int:
    """Phones make typos: 1 in a word of 5+ letters, 2 in 9+, none in shorter words."""
    return 2 if len(word) >= 9 else 1 if len(word) >= 5 else 0


class _WordIndex:
    """Words to look keywords up in (an answer, or the words that do not count).

    A keyword word matches a word with the same stem; and when both are letters only
    (numbers and words with digits, "gpt4", match exactly), one within the typos its length
    allows, compared raw (a misspelt word, "retreival") or by stems (a misspelt other form
    of it, "retreives" for "retrieval"; the stem's own length sets its tolerance, so a short
    stem such as "use" from "using" is not matched loosely).

    Applied to all the words at once: exact stems by a dict, typos only against the
    distinct words of a length within reach. So the work grows with the distinct words
    times the keyword words, never with the answer's length alone."""

    def __init__(self, sequence: list[str]) -> None:
        self.sequence = sequence
        distinct = list(dict.fromkeys(sequence))
        self.by_stem: dict[str, set[str]] = {}
        for word, word_stem in zip(distinct, stems_of_words(distinct), strict=True):
            self.by_stem.setdefault(word_stem, set()).add(word)
        letters_only = [word for word in distinct if word.isalpha()]
        # By length: a word can only be within k typos of one whose length is within k.
        self.by_length: dict[int, list[str]] = {}
        self.stems_by_length: dict[int, list[tuple[str, str]]] = {}
        for word, word_stem in zip(letters_only, stems_of_words(letters_only), strict=True):
            self.by_length.setdefault(len(word), []).append(word)
            self.stems_by_length.setdefault(len(word_stem), []).append((word_stem, word))
        self._matching: dict[str, frozenset[str]] = {}

    def matching(self, expected: str) -> frozenset[str]:
        """The indexed words that the keyword word `expected` matches."""
        found = self._matching.get(expected)
        if found is not None:
            return found
        words_found = set(self.by_stem.get(stem(expected), ()))
        if expected.isalpha():
            from rapidfuzz.distance import OSA

            allowed = _typos_allowed(expected)
            for length in range(len(expected) - allowed, len(expected) + allowed + 1):
                for word in self.by_length.get(length, ()) if allowed else ():
                    if OSA.distance(expected, word, score_cutoff=allowed) <= allowed:
                        words_found.add(word)
            target = stem(expected)
            allowed = _typos_allowed(target)
            for length in range(len(target) - allowed, len(target) + allowed + 1):
                for word_stem, word in self.stems_by_length.get(length, ()) if allowed else ():
                    if OSA.distance(target, word_stem, score_cutoff=allowed) <= allowed:
                        words_found.add(word)
        found = self._matching[expected] = frozenset(words_found)
        return found

    def contains(self, phrase: list[str]) -> bool:
        """Whether the phrase's words appear consecutively, each one matching."""
        if not phrase:
            return False
        matches = [self.matching(word) for word in phrase]
        if not all(matches):
            return False
        size = len(phrase)
        return any(
            all(self.sequence[start + offset] in matches[offset] for offset in range(size))
            for start in range(len(self.sequence) - size + 1)
        )


@lru_cache(maxsize=1)
def _common_words() -> _WordIndex:
    return _WordIndex(sorted(NOT_TELLING))


@lru_cache(maxsize=256)
def _question_words(question_text: str) -> _WordIndex:
    return _WordIndex(words(question_text))


def telling_words(alternative: str, question_text: str) -> list[str]:
    """The words of a keyword alternative that show understanding: neither too common to
    (companion.domain.common_words, by the grader's own matching) nor given away by the
    question's text. An alternative without one can be matched by a non-answer, or by
    pasting the question back."""
    common, asked = _common_words(), _question_words(question_text)
    return [
        word
        for word in words(alternative)
        if not common.matching(word) and not asked.matching(word)
    ]


def _alternatives(keyword: str | list[str]) -> list[str]:
    return [keyword] if isinstance(keyword, str) else list(keyword)


@lru_cache(maxsize=256)
def _scorable(question_text: str, keywords_json: str) -> tuple[tuple[str, tuple], ...]:
    """Each keyword as (its name, the word lists of its alternatives that count)."""
    scorable = []
    for keyword in json.loads(keywords_json):
        alternatives = _alternatives(keyword)
        counted = [a for a in alternatives if telling_words(a, question_text)]
        name = counted[0] if counted else alternatives[0]
        scorable.append((name, tuple(tuple(words(a)) for a in counted)))
    return tuple(scorable)


def _quoted_list(names: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _round_half_up(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _grade_short_answer(question: ShortAnswerQuestion, answer: str | None) -> dict:
    """Points for the key concepts the answer names. Only alternatives that show
    understanding count (`telling_words`): a non-answer, or the question pasted back,
    earns nothing."""
    keywords = _scorable(
        question.question_text, json.dumps(question.keywords, separators=(",", ":"))
    )
    total = len(keywords)
    concepts = "key concept" if total == 1 else "key concepts"
    model_answer = f"Model answer: {question.explanation}"
    if answer is None or not answer.strip():
        names = _quoted_list([name for name, _ in keywords])
        feedback = f"Not answered. A good answer covers {names}. {model_answer}"
        return {"correct": False, "score": 0.0, "feedback": feedback}
    written = _WordIndex(words(answer))
    found, missing = [], []
    for name, alternatives in keywords:
        hit = any(written.contains(list(alternative)) for alternative in alternatives)
        (found if hit else missing).append(name)
    score = _round_half_up(Decimal(POINTS_PER_QUESTION * len(found)) / Decimal(total), "0.1")
    if not missing:
        every = "the" if total == 1 else f"all {total}"
        summary = f"You covered {every} {concepts}: {_quoted_list(found)}."
    elif not found:
        summary = f"You covered none of the {total} {concepts}. Missing: {_quoted_list(missing)}."
    else:
        summary = (
            f"You covered {len(found)} of {total} {concepts}: {_quoted_list(found)}. "
            f"Missing: {_quoted_list(missing)}."
        )
    return {
        "correct": score >= CORRECT_SHORT_ANSWER_SCORE,
        "score": float(score),
        "feedback": f"{summary} {model_answer}",
    }


# --- grading -------------------------------------------------------------------------------


def _grade_choice(
    question: MultipleChoiceQuestion | TrueFalseQuestion, chosen: str | bool | None
) -> dict:
    if chosen is None:
        return {"correct": False, "explanation": "Not answered."}
    correct = chosen == question.correct_answer
    selected = chosen if isinstance(chosen, str) else ("true" if chosen else "false")
    template = question.explanation_correct if correct else question.explanation_incorrect
    return {"correct": correct, "explanation": template.replace("{selected}", selected)}


def grade_quiz(quiz: Quiz, chapter: Chapter, answers: dict[str, object]) -> QuizGrade:
    """Grade `answers` (question id to answer, as submitted) for `quiz` of `chapter`."""
    if quiz.chapter_id != chapter.chapter_id:
        raise ValueError(f"{quiz.quiz_id} belongs to {quiz.chapter_id}, not {chapter.chapter_id}")
    understood = _read_answers(quiz, answers)
    details: dict[str, dict] = {}
    as_read: dict[str, object] = {}
    points = Decimal(0)
    for question in quiz.questions:
        answer = understood[question.question_id]
        as_read[question.question_id] = answer
        if isinstance(question, ShortAnswerQuestion):
            as_read[question.question_id] = words(answer) if answer else None
            detail = _grade_short_answer(question, answer)
            points += Decimal(str(detail["score"]))
        else:
            detail = _grade_choice(question, answer)
            points += POINTS_PER_QUESTION if detail["correct"] else 0
        if not detail["correct"]:
            section = chapter.section(question.section_id)
            if section is None:
                raise ValueError(f"{quiz.quiz_id}: no section {question.section_id} in chapter")
            detail["review"] = {
                "chapter_id": chapter.chapter_id,
                "section_id": section.section_id,
                "section_title": section.title,
            }
        details[question.question_id] = detail
    score = _round_half_up(
        Decimal(100) * points / (POINTS_PER_QUESTION * len(quiz.questions)), "0.01"
    )
    return QuizGrade(
        score=float(score),
        passed=float(score) >= quiz.passing_score,
        points=float(points),
        grading_details=details,
        review_sections=review_sections_of(details, chapter),
        answers=dict(answers),
        as_read=as_read,
    )
