"""Grading a short answer, whatever the student sends: milliseconds per graded submission.

The grader's work grows with the distinct words of an answer times the words of the
question's keywords (companion.domain.grading._WordIndex), and an answer is capped at 2,000
characters *after* normalisation, so no input costs more than a few milliseconds. Each
input below is graded against every short-answer question of the course (a fresh answer
text each time, so no cache helps), in-process, no stack needed.

    .venv/bin/python tests/benchmarks/bench_grading.py [--rounds 200] [--no-record]
"""

from __future__ import annotations

import argparse
import random
import string
import sys
from pathlib import Path

import _stack

from companion import catalogue
from companion.domain.grading import InvalidAnswers, grade_quiz

CONTENT = _stack.REPO_ROOT / "shared" / "content"


def inputs(rng: random.Random) -> dict[str, callable]:
    """Input kinds, each a function making a fresh answer of at most 2,000 characters."""
    letters = string.ascii_lowercase

    def random_words(low: int, high: int) -> str:
        text = []
        while sum(len(w) + 1 for w in text) < 1_990:
            text.append("".join(rng.choice(letters) for _ in range(rng.randint(low, high))))
        return " ".join(text)[:2_000]

    model = Path(_stack.REPO_ROOT / "tests" / "data" / "model_answers_04-06.json").read_text()
    return {
        "a model answer (~300 characters)": lambda: model[200:500] + rng.choice(letters),
        "2,000 x U+FDFA (36,000 once normalised: refused)": lambda: "\ufdfa" * 2_000,
        "2,000 characters of 1-2 letter words": lambda: random_words(1, 2),
        "2,000 characters of 5-9 letter words (typo checks)": lambda: random_words(5, 9),
        "one 2,000-letter word": lambda: "".join(rng.choice(letters) for _ in range(2_000)),
        "666 x U+FB03 'ffi' (1,998 once normalised)": lambda: "\ufb03" * 666,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    course = catalogue.validate_source(CONTENT)
    questions = [
        (quiz, course.chapter(quiz.chapter_id), question)
        for quiz in course.quizzes.values()
        for question in quiz.questions
        if question.type == "short-answer"
    ]
    rng = random.Random(14)
    rows = []
    for name, make in inputs(rng).items():
        times = []
        for _ in range(args.rounds):
            quiz, chapter, question = rng.choice(questions)
            answer = make()

            def grade(quiz=quiz, chapter=chapter, question=question, answer=answer):
                try:
                    return grade_quiz(quiz, chapter, {question.question_id: answer})
                except InvalidAnswers:
                    return None

            elapsed, _ = _stack.timed(grade)
            times.append(elapsed)
        summary = _stack.summarise(times[5:])  # the first calls load the stemmer
        rows.append((name, _stack.ms(summary.p50), _stack.ms(summary.p99), _stack.ms(summary.max)))
        print(f"{name}: p50 {summary.p50:.2f} ms, max {summary.max:.2f} ms", file=sys.stderr)
    table = _stack.markdown_table(["answer", "p50 ms", "p99 ms", "max ms"], rows)
    body = (
        f"{_stack.run_header(_stack.this_command())}\n\n"
        f"One short answer graded against a random short-answer question of the course, "
        f"{args.rounds} times per kind of input (grade_quiz in-process: reading, the "
        "normalisation cap, matching, feedback).\n\n"
        f"{table}\n"
    )
    print(table)
    if not args.no_record:
        _stack.record_section("Grading short answers", body)


if __name__ == "__main__":
    main()
