import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.domain.content_models import Chapter, Quiz
from companion.domain.grading import InvalidAnswers, grade_quiz

SECTIONS = [
    # Listed out of order on purpose: review order follows `order`, not the list.
    {"section_id": "s-rag", "title": "Retrieval", "order": 2},
    {"section_id": "s-intro", "title": "What is GenAI?", "order": 1},
    {"section_id": "s-tuning", "title": "Fine-tuning", "order": 3},
]


def make_chapter() -> Chapter:
    return Chapter(
        chapter_id="01-intro",
        chapter_number=1,
        title="Introduction",
        subtitle="The landscape",
        access_tier="free",
        estimated_time_minutes=30,
        difficulty_level="beginner",
        learning_objectives=["Know the words"],
        sections=[
            {**section, "estimated_time_minutes": 10, "content_markdown": "# Text"}
            for section in SECTIONS
        ],
    )


CHAPTER = make_chapter()


def multiple_choice(question_id="q1", section_id="s-intro", **overrides) -> dict:
    return {
        "question_id": question_id,
        "question_text": "Which of the following is a generative model?",
        "section_id": section_id,
        "type": "multiple-choice",
        "options": ["GPT-4", "Logistic Regression", "Decision Tree", "K-Means"],
        "correct_answer": "GPT-4",
        "explanation_correct": "Correct! GPT-4 generates text.",
        "explanation_incorrect": "Incorrect. {selected} is not a generative model.",
        **overrides,
    }


def true_false(question_id="q2", section_id="s-tuning", correct=False) -> dict:
    return {
        "question_id": question_id,
        "question_text": "Most LLMs are multimodal.",
        "section_id": section_id,
        "type": "true-false",
        "correct_answer": correct,
        "explanation_correct": "Correct! Most LLMs are text-only.",
        "explanation_incorrect": "You answered {selected}, but most LLMs are text-only.",
    }


def short_answer(keywords, question_id="q3", section_id="s-rag") -> dict:
    return {
        "question_id": question_id,
        "question_text": "In your own words, compare the two approaches from this lesson.",
        "section_id": section_id,
        "type": "short-answer",
        "keywords": keywords,
        "explanation": "RAG retrieves documents; fine-tuning updates parameters in training.",
    }


def make_quiz(*questions, passing_score=70) -> Quiz:
    return Quiz(
        quiz_id="01-quiz",
        chapter_id="01-intro",
        passing_score=passing_score,
        questions=list(questions),
    )


QUIZ = make_quiz(
    multiple_choice(),
    true_false(),
    short_answer(["retrieval", "documents", "parameters", "training"]),
)
PERFECT = {
    "q1": "GPT-4",
    "q2": False,
    "q3": "RAG retrieves documents at inference time; fine-tuning changes parameters in training.",
}


def grade(answers, quiz=QUIZ):
    return grade_quiz(quiz, CHAPTER, answers)


def short_answer_result(keywords, answer) -> dict:
    return grade({"q3": answer}, make_quiz(short_answer(keywords))).grading_details["q3"]


def short_answer_score(keywords, answer) -> float:
    return short_answer_result(keywords, answer)["score"]


def invalid_detail(answers, quiz=QUIZ) -> str:
    with pytest.raises(InvalidAnswers) as raised:
        grade(answers, quiz)
    return raised.value.detail


# --- whole quiz ------------------------------------------------------------------------------


def test_perfect_answers_score_100_and_pass_with_nothing_to_review():
    result = grade(PERFECT)
    assert (result.score, result.passed, result.points) == (100.0, True, 30.0)
    assert result.review_sections == []
    assert result.grading_details["q1"] == {
        "correct": True,
        "explanation": "Correct! GPT-4 generates text.",
    }
    assert result.grading_details["q3"]["score"] == 10.0
    assert result.answers == PERFECT


def test_nothing_answered_scores_0_and_says_so_for_every_question():
    result = grade({})
    assert (result.score, result.passed, result.points) == (0.0, False, 0.0)
    assert result.grading_details["q1"]["explanation"] == "Not answered."
    assert result.grading_details["q2"]["explanation"] == "Not answered."
    q3 = result.grading_details["q3"]
    assert (q3["correct"], q3["score"]) == (False, 0.0)
    assert q3["feedback"].startswith("Not answered.")
    assert "Model answer: RAG retrieves documents" in q3["feedback"]


def test_explicit_null_is_an_unanswered_question():
    result = grade({"q1": None, "q2": False, "q3": None})
    assert result.grading_details["q1"] == {
        "correct": False,
        "explanation": "Not answered.",
        "review": {
            "chapter_id": "01-intro",
            "section_id": "s-intro",
            "section_title": "What is GenAI?",
        },
    }
    assert result.grading_details["q2"]["correct"] is True
    assert result.score == 33.33


def test_wrong_answers_point_to_the_sections_to_reread_in_chapter_order():
    result = grade({"q1": "d", "q2": True, "q3": "No idea"})
    assert [s["section_id"] for s in result.review_sections] == ["s-intro", "s-rag", "s-tuning"]
    assert result.review_sections[1] == {
        "chapter_id": "01-intro",
        "section_id": "s-rag",
        "section_title": "Retrieval",
    }
    assert result.grading_details["q3"]["review"]["section_title"] == "Retrieval"


def test_review_sections_are_distinct_and_only_for_wrong_answers():
    quiz = make_quiz(
        multiple_choice("q1", "s-tuning"),
        multiple_choice("q2", "s-tuning"),
        multiple_choice("q3", "s-intro"),
    )
    result = grade({"q1": "b", "q2": "c", "q3": "a"}, quiz)
    assert result.review_sections == [
        {"chapter_id": "01-intro", "section_id": "s-tuning", "section_title": "Fine-tuning"}
    ]
    assert "review" not in result.grading_details["q3"]


def test_grading_details_follow_the_quiz_order_not_the_answers_order():
    result = grade({"q3": "documents", "q1": "a", "q2": "false"})
    assert list(result.grading_details) == ["q1", "q2", "q3"]


def test_one_of_three_right_is_33_33_and_two_is_66_67():
    quiz = make_quiz(multiple_choice("q1"), multiple_choice("q2"), multiple_choice("q3"))
    assert grade({"q1": "a", "q2": "b", "q3": "b"}, quiz).score == 33.33
    two_right = grade({"q1": "a", "q2": "a", "q3": "b"}, quiz)
    assert (two_right.score, two_right.passed) == (66.67, False)


def test_exactly_the_passing_score_passes():
    quiz = make_quiz(*(multiple_choice(f"q{i}") for i in range(10)), passing_score=70)
    answers = {f"q{i}": "a" if i < 7 else "b" for i in range(10)}
    result = grade(answers, quiz)
    assert (result.score, result.passed) == (70.0, True)
    answers["q6"] = "b"
    assert grade(answers, quiz).passed is False


def test_score_adds_short_answer_scores_as_reported_after_rounding():
    # Each answer finds 2 of 3 concepts: 6.7 points as reported, 20.1 in all, so 67.0%
    # (the unrounded 20/30 would be 66.67%).
    keywords = ["retrieval", "documents", "parameters"]
    quiz = make_quiz(*(short_answer(keywords, f"q{i}") for i in range(3)))
    result = grade({f"q{i}": "retrieval of documents" for i in range(3)}, quiz)
    assert result.grading_details["q0"]["score"] == 6.7
    assert (result.points, result.score) == (20.1, 67.0)


def test_quiz_score_rounds_half_up():
    # 0.5 points of 80 is 0.625%: half up gives 0.63 (float rounding would give 0.62).
    keywords = [f"concept{n}" for n in range(20)]
    quiz = make_quiz(short_answer(keywords, "q0"), *(multiple_choice(f"q{i}") for i in range(1, 8)))
    result = grade({"q0": "concept0", **{f"q{i}": "b" for i in range(1, 8)}}, quiz)
    assert (result.points, result.score) == (0.5, 0.63)


def test_a_quiz_for_another_chapter_is_a_programming_error():
    quiz = Quiz(
        quiz_id="02-quiz", chapter_id="02-other", passing_score=70, questions=[true_false()]
    )
    with pytest.raises(ValueError, match="02-other"):
        grade_quiz(quiz, CHAPTER, {})


# --- multiple choice -------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["a", "A", " a ", "GPT-4", "gpt-4", "  Gpt-4\n", "ＧＰＴ－４"])
def test_multiple_choice_by_letter_or_text_ignoring_case_and_space(answer):
    assert grade({"q1": answer}).grading_details["q1"]["correct"] is True


def test_wrong_choice_names_the_chosen_option_text_even_when_answered_by_letter():
    details = grade({"q1": "B"}).grading_details["q1"]
    assert details["correct"] is False
    assert details["explanation"] == "Incorrect. Logistic Regression is not a generative model."
    assert grade({"q1": "decision tree"}).grading_details["q1"]["explanation"] == (
        "Incorrect. Decision Tree is not a generative model."
    )


def test_an_option_whose_text_is_a_letter_is_chosen_by_its_text():
    quiz = make_quiz(multiple_choice(options=["b", "a"], correct_answer="a"))
    assert grade({"q1": "a"}, quiz).grading_details["q1"]["correct"] is True
    assert grade({"q1": "B"}, quiz).grading_details["q1"]["correct"] is False


def test_an_invalid_choice_names_the_valid_ones():
    assert invalid_detail({"q1": "z"}) == (
        'Question q1: "z" is not one of the choices; answer with a letter a-d or the option '
        'text: "GPT-4", "Logistic Regression", "Decision Tree", "K-Means".'
    )


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        ("e", '"e"'),  # a letter past the last option
        ("GPT4", '"GPT4"'),  # no typo tolerance for choices
        ("a)", '"a)"'),
        ("", '""'),
        (1, "a number"),
        (0.5, "a number"),
        (True, "true"),
        (["a"], "a list"),
        ({"text": "a"}, "an object"),
    ],
)
def test_anything_else_is_not_a_choice(answer, shown):
    assert invalid_detail({"q1": answer}).startswith(
        f"Question q1: {shown} is not one of the choices"
    )


# --- true-false ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "correct"),
    [(False, True), ("false", True), (" FALSE ", True), (True, False), ("True", False)],
)
def test_true_false_takes_booleans_or_their_words(answer, correct):
    assert grade({"q2": answer}).grading_details["q2"]["correct"] is correct


def test_wrong_true_false_says_what_was_selected():
    assert grade({"q2": "TRUE"}).grading_details["q2"]["explanation"] == (
        "You answered true, but most LLMs are text-only."
    )


@pytest.mark.parametrize("answer", [0, 1, "yes", "t", "", "falsey", ["false"]])
def test_true_false_rejects_anything_else(answer):
    assert "is not true or false; answer with true or false." in invalid_detail({"q2": answer})


# --- input problems --------------------------------------------------------------------------


def test_unknown_question_ids_are_rejected_naming_the_real_ones():
    detail = invalid_detail({"q1": "a", "q9": "b"})
    assert detail == 'There is no question "q9" in this quiz; its questions are q1, q2, q3.'


def test_answers_must_be_an_object():
    assert "must be an object" in invalid_detail([["q1", "a"]])
    assert "must be an object" in invalid_detail(None)


def test_every_problem_is_reported_and_nothing_is_graded():
    detail = invalid_detail({"q1": "z", "q2": "maybe", "q3": "fine", "q4": "a"})
    assert 'no question "q4"' in detail
    assert "Question q1:" in detail
    assert "Question q2:" in detail
    assert "Question q3" not in detail


def test_a_flood_of_problems_is_summarised():
    detail = invalid_detail({f"x{n}": "a" for n in range(50)})
    assert detail.count("There is no question") == 5
    assert detail.endswith("(45 more problems not listed.)")


@pytest.mark.parametrize(
    ("question_id", "answer"), [("q1", "a\x00"), ("q2", "true\x00"), ("q3", "RAG\x00")]
)
def test_nul_characters_are_rejected_because_they_cannot_be_stored(question_id, answer):
    detail = invalid_detail({question_id: answer})
    assert f"Question {question_id}: the answer contains a NUL character" in detail
    assert "\x00" not in detail


def test_unpaired_surrogates_are_rejected_and_not_echoed():
    detail = invalid_detail({"q3": "caf\ud800"})
    assert "not valid text" in detail
    detail = invalid_detail({"q\ud800": "a"})
    assert "\ud800" not in detail
    detail.encode("utf-8")


def test_short_answer_length_limit_is_2000_characters():
    assert grade({"q3": "x" * 2000}).grading_details["q3"]["score"] == 0.0
    detail = invalid_detail({"q3": "x" * 2001})
    assert detail == (
        "Question q3: the answer is 2,001 characters long; shorten it to at most 2,000 characters."
    )


@pytest.mark.parametrize(("answer", "shown"), [(True, "true"), (42, "a number"), (["x"], "a list")])
def test_short_answer_must_be_text(answer, shown):
    assert invalid_detail({"q3": answer}).startswith(
        f"Question q3: {shown} is not a written answer"
    )


def test_a_huge_number_is_described_not_printed():
    assert invalid_detail({"q1": 10**5000}).startswith("Question q1: a number is not one")


# --- short-answer matching -------------------------------------------------------------------


def test_short_answer_feedback_names_found_and_missing_concepts_then_the_model_answer():
    result = short_answer_result(
        ["retrieval", "documents", "parameters", "training"], "It retrieves documents."
    )
    assert result == {
        "correct": False,
        "score": 5.0,
        "feedback": 'You covered 2 of 4 key concepts: "retrieval", "documents". '
        'Missing: "parameters", "training". Model answer: RAG retrieves documents; '
        "fine-tuning updates parameters in training.",
        "review": {"chapter_id": "01-intro", "section_id": "s-rag", "section_title": "Retrieval"},
    }


def test_feedback_when_all_or_none_are_found():
    assert short_answer_result(["rag"], "RAG!")["feedback"].startswith(
        'You covered the key concept: "rag". Model answer:'
    )
    assert short_answer_result(["rag", "vector"], "RAG vectors")["feedback"].startswith(
        'You covered all 2 key concepts: "rag", "vector". Model answer:'
    )
    assert short_answer_result(["rag", "vector"], "no")["feedback"].startswith(
        'You covered none of the 2 key concepts. Missing: "rag", "vector". Model answer:'
    )


def test_a_blank_answer_counts_as_not_answered():
    assert short_answer_result(["rag"], "   ")["feedback"].startswith("Not answered.")


@pytest.mark.parametrize(
    ("found", "total", "score", "correct"),
    [
        (2, 3, 6.7, False),
        (1, 3, 3.3, False),
        (1, 8, 1.3, False),
        (7, 10, 7.0, True),
        (3, 4, 7.5, True),
        (0, 5, 0.0, False),
        (5, 5, 10.0, True),
    ],
)
def test_short_answer_score_is_rounded_half_up_to_one_decimal(found, total, score, correct):
    keywords = [f"word{n}" for n in range(total)]
    result = short_answer_result(keywords, " ".join(keywords[:found]))
    assert (result["score"], result["correct"]) == (score, correct)


@pytest.mark.parametrize(
    ("keyword", "answer", "matches"),
    [
        ("retrieval", "RETRIEVAL", True),
        ("retrieval", "it retrieves", True),  # same stem
        ("documents", "a document", True),
        ("naive", "naïve", True),
        ("train", "a constraint", False),  # never inside another word
        ("train", "trains", True),
        ("rag", "fragment", False),
        # one typo in a word of 5+ letters: swapped, missing, extra, changed
        ("model", "modle", True),
        ("model", "mdel", True),
        ("model", "moddel", True),
        ("model", "modek", True),
        ("model", "mdoel", True),
        ("model", "modk", False),  # two typos
        ("training", "traning", True),
        ("training", "trsinimg", False),  # two typos in 8 letters
        # two typos in a word of 9+ letters
        ("retrieval", "retreival", True),
        ("retrieval", "retreivl", True),
        ("embedding", "enbeding", True),
        ("retrieval", "rtreivel", False),  # three
        ("retrieval", "retreives", True),  # a misspelt other form of the word
        # shorter words and numbers must be exact
        ("data", "date", False),
        ("data", "dta", False),
        ("token", "tokn", True),
        ("2017", "2018", False),
        ("2017", "in 2017", True),
        ("gpt4", "gpt5", False),
        ("model", "mode1", False),
        ("llama2", "llamas", False),
        ("12345", "12346", False),
        ("?!", "anything at all", False),  # a keyword with no words is never found
        ("using", "us", False),
    ],
)
def test_keyword_matching(keyword, answer, matches):
    assert short_answer_score([keyword], answer) == (10.0 if matches else 0.0)


@pytest.mark.parametrize(
    ("keyword", "answer", "matches"),
    [
        ("fine tuning", "Fine-tuning updates weights", True),
        ("fine tuning", "it was fine-tuned", True),
        ("fine-tuning", "fine tuning", True),
        ("fine tuning", "fine and tuning", False),  # not consecutive
        ("fine tuning", "tuning fine", False),
        ("fine tuning", "fine", False),
        ("knowledge base", "the knowlege base", True),  # a typo inside a phrase
    ],
)
def test_phrase_keywords_need_their_words_in_a_row(keyword, answer, matches):
    assert short_answer_score([keyword], answer) == (10.0 if matches else 0.0)


def test_alternatives_count_once_and_are_named_by_the_first():
    keywords = [["retrieval", "search", "look up"], "documents"]
    assert short_answer_score(keywords, "we search and look up and retrieve") == 5.0
    assert short_answer_score(keywords, "look it up") == 0.0
    assert short_answer_result(keywords, "the documents")["feedback"].startswith(
        'You covered 1 of 2 key concepts: "documents". Missing: "retrieval".'
    )


def test_keyword_typed_with_curly_apostrophe_matches_the_plain_one():
    assert short_answer_score(["hasn't seen"], "the model hasn’t seen it") == 10.0


# --- properties ------------------------------------------------------------------------------

VOCABULARY = ["retrieval", "documents", "vector", "rag", "fine tuning", "2024", "model", "prompt"]
keyword = st.one_of(
    st.sampled_from(VOCABULARY), st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=3)
)


@st.composite
def quizzes(draw):
    questions = []
    for number in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["mc", "tf", "sa"]))
        section = draw(st.sampled_from(["s-rag", "s-intro", "s-tuning"]))
        if kind == "mc":
            questions.append(multiple_choice(f"q{number}", section))
        elif kind == "tf":
            questions.append(true_false(f"q{number}", section, draw(st.booleans())))
        else:
            keywords = draw(st.lists(keyword, min_size=1, max_size=5))
            questions.append(short_answer(keywords, f"q{number}", section))
    return make_quiz(*questions, passing_score=draw(st.integers(1, 100)))


def some_answer(question):
    if question.type == "multiple-choice":
        letters = [chr(ord("a") + i) for i in range(len(question.options))]
        return st.sampled_from(letters + [o.upper() for o in question.options])
    if question.type == "true-false":
        return st.sampled_from([True, False, "true", "FALSE", " True "])
    text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=300)
    return text | st.lists(st.sampled_from(VOCABULARY + ["-", "x"])).map(" ".join)


def right_answer(question):
    if question.type == "multiple-choice":
        return st.sampled_from(
            ["a", " A", question.correct_answer, question.correct_answer.lower()]
        )
    if question.type == "true-false":
        return st.sampled_from([question.correct_answer, str(question.correct_answer).upper()])
    firsts = [k if isinstance(k, str) else k[0] for k in question.keywords]
    return st.permutations(firsts).map(", and ".join)


@st.composite
def quiz_and_answers(draw, answer=some_answer, answer_all=False):
    quiz = draw(quizzes())
    answered = quiz.questions
    if not answer_all:
        answered = draw(st.lists(st.sampled_from(answered), unique_by=lambda q: q.question_id))
    answers = {q.question_id: draw(answer(q)) for q in answered}
    return quiz, answers


@settings(deadline=None)  # the first calls load the stemmer
@given(quiz_and_answers(), st.randoms())
def test_any_valid_answers_give_a_consistent_grade_whatever_their_order(quiz_answers, random):
    quiz, answers = quiz_answers
    result = grade(answers, quiz)
    assert 0 <= result.score <= 100
    assert result.score == round(result.score, 2)
    assert result.passed == (result.score >= quiz.passing_score)
    assert list(result.grading_details) == [q.question_id for q in quiz.questions]
    for details in result.grading_details.values():
        assert ("review" in details) == (not details["correct"])
        if "score" in details:
            assert 0 <= details["score"] <= 10
    items = list(answers.items())
    random.shuffle(items)
    assert grade(dict(items), quiz) == result


@settings(deadline=None)  # the first calls load the stemmer
@given(quiz_and_answers(answer=right_answer, answer_all=True))
def test_a_perfect_answer_set_scores_100_and_passes(quiz_answers):
    quiz, answers = quiz_answers
    result = grade(answers, quiz)
    assert (result.score, result.passed, result.review_sections) == (100.0, True, [])


@settings(deadline=None)  # the first calls load the stemmer
@given(quizzes())
def test_an_empty_answer_set_scores_0(quiz):
    result = grade({}, quiz)
    assert (result.score, result.passed) == (0.0, False)
    assert all(not details["correct"] for details in result.grading_details.values())
