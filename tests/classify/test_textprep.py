"""Text preparation: the lemmatiser's remembered words give exactly what spaCy's own pipeline gives."""

import pytest

from triage.classify.textprep import SpacyLemmatizer, build_spacy

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
    expected = [spacy_lemmas(text) for text in TEXTS]
    assert lemmatizer.transform(TEXTS) == expected
    assert lemmatizer.transform(TEXTS) == expected  # second time from memory


def test_memory_is_bounded():
    lemmatizer = SpacyLemmatizer()
    lemmatizer.max_remembered = 5
    lemmatizer.transform([" ".join(f"word{i}" for i in range(20))])
    assert lemmatizer.transform(["bins"]) == ["bin"]
    assert len(lemmatizer._pipeline()[2]) <= 5 + 1
