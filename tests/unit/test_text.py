from companion.domain.text import normalise, stems, word_spans, words


def test_normalise_folds_case_accents_and_typographic_punctuation():
    assert normalise("Café “RAG” — Fine‑tuning") == 'cafe "rag" - fine-tuning'


def test_words_split_on_hyphens_and_keep_apostrophes_inside_words():
    assert words("Fine-tuning isn't the model’s job") == [
        "fine",
        "tuning",
        "isnt",
        "the",
        "models",
        "job",
    ]


def test_stems_group_a_word_family():
    assert stems("retrieves")[0] == stems("retrieval")[0] == stems("retrieving")[0]


def test_word_spans_point_into_the_original_text():
    text = "Der Modèle RETRIEVES"
    for word, start, end in word_spans(text):
        assert normalise(text[start:end]) == word
