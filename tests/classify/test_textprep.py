"""Text preparation: the lemmatiser gives the word features spaCy's own pipeline gives, cold and remembered."""

import re
from pathlib import Path

import pytest

from triage.classify.dataset import load_samples
from triage.classify.textprep import SpacyLemmatizer, build_spacy, prepare

WORDS = re.compile(r"(?u)\b\w\w+\b")
"""What the word n-grams read of a lemma string (scikit-learn's token pattern): punctuation is not in it."""

TEXTS = [
    "bins weren't collected AGAIN!!",
    "Dear Sir/Madam,\n\n  I'm writing re: PCN ENT_PCN —  it's wrong.\tSee www.example.gov.uk/pay?x=1",
    "hiya 👋 can u fix the street-light outside no.12?? thx",
    "Mae'r biniau heb eu casglu ers dydd Llun (eto!)",
    "e-mail me@example.com… or ring 01632-960001;   cheers",
    "",
    "   ",
]


@pytest.fixture(scope="module")
def spacy_lemmas():
    nlp = build_spacy()

    def lemmatise(text: str) -> str:
        return " ".join(token.lemma_.lower() for token in nlp(text) if not token.is_space)
    return lemmatise


def test_lemmas_match_the_spacy_pipeline_cold_and_remembered(spacy_lemmas):
    lemmatizer = SpacyLemmatizer().fit(TEXTS)
    expected = [WORDS.findall(spacy_lemmas(text)) for text in TEXTS]
    assert [WORDS.findall(lemmas) for lemmas in lemmatizer.transform(TEXTS)] == expected
    assert [WORDS.findall(lemmas) for lemmas in lemmatizer.transform(TEXTS)] == expected  # from memory
    assert WORDS.findall(lemmatizer.transform(["Cannot. (bins) don't"])[0]) == ["can", "not", "bin", "do", "not"]
    # "m." is one of spaCy's special cases: the "m" of "9 a.m. till 5 p.m." must not become "be" (as in "I'm")
    assert WORDS.findall(lemmatizer.transform(["open 9 a. m. till 5 p.m. (m.)"])[0]) == WORDS.findall(
        spacy_lemmas("open 9 a. m. till 5 p.m. (m.)"))


def test_every_corpus_word_gets_the_features_the_tokenizer_would_give(spacy_lemmas):
    """Words with punctuation round them skip spaCy's tokenizer; their features must not change."""
    samples = load_samples(Path(__file__).resolve().parents[2] / "training_data")
    pieces = {piece for s in samples for piece in prepare(s.text, channel=s.channel, subject=s.subject).masked.split()}
    lemmatizer = SpacyLemmatizer()
    assert len(pieces) > 40_000
    for piece in pieces:
        assert WORDS.findall(lemmatizer.lemmatize_piece(piece)) == WORDS.findall(spacy_lemmas(piece)), piece


def test_memory_is_bounded():
    lemmatizer = SpacyLemmatizer()
    lemmatizer.max_remembered = 5
    lemmatizer.transform([" ".join(f"word{i}" for i in range(20))])
    assert lemmatizer.transform(["bins"]) == ["bin"]
    assert len(lemmatizer._pipeline()[2]) <= 5 + 1
