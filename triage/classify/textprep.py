"""From a raw message to the text the models read: cleaned, entities found and masked, lemmatised.

spaCy runs as a blank English pipeline with the lookup lemmatiser from
spacy-lookups-data, so nothing is downloaded at run time and a worker starts fast.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sklearn.base import BaseEstimator, TransformerMixin

from triage.classify.bodies import body_tokens, find_bodies
from triage.classify.cleaning import clean_message, repair_ocr
from triage.classify.entities import find_entities, group_by_kind, mask

_EDGE_PUNCTUATION = ".,!?;:()[]{}\"'“”‘’…"
WORD_CACHE_LIMIT = 50_000
"""Distinct words whose results a per-word cache keeps before it is cleared (a worker runs for weeks): the
lemmas here, the character n-gram columns in `features.py`. Both together cost about 0.4 KB a word, so this
bounds them at about 20 MB. The whole corpus (23,136 messages) has about 55,000 distinct words; at 200,000, the
limit before, a long-running worker would have passed 400 MB resident. Clearing costs a few per cent of speed
while the common words come back."""


@dataclass(frozen=True)
class PreparedText:
    body: str
    """The resident's own words (quoted replies, signature and boilerplate removed)."""
    plain: str
    """Subject and body as written (read by the sentence encoder, which needs real words)."""
    masked: str
    """Channel marker, subject and body with entities replaced by placeholder tokens, then one token per kind
    of outside body mentioned (read by the n-grams)."""
    entities: dict[str, list[str]] = field(default_factory=dict)


def prepare(text: str, *, channel: str, subject: str | None = None) -> PreparedText:
    cleaned = clean_message(text)
    body = repair_ocr(cleaned.body or text.strip())
    plain = f"{subject}\n{body}" if subject else body
    found = find_entities(plain)
    entities = group_by_kind(found)
    for kind, values in group_by_kind(find_entities(cleaned.signature)).items():
        entities.setdefault(kind, [])
        entities[kind] += [v for v in values if v not in entities[kind]]
    bodies = find_bodies(plain)
    if bodies:
        entities["organisation"] = list(dict.fromkeys(name for _, name in bodies))
    masked = f"channel_{channel} " + mask(plain, found) + " " + body_tokens(bodies)
    return PreparedText(body=body, plain=plain, masked=masked, entities=entities)


def build_spacy():
    """A blank English pipeline with the lookup lemmatiser (tables from spacy-lookups-data)."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


class SpacyLemmatizer(TransformerMixin, BaseEstimator):
    """Turns texts into lower-case lemma strings ("bins weren't collected" -> "bin be not collect").

    The spaCy pipeline is built lazily on first use and never saved with the model,
    so `clone`, `get_params` and safe serialisation all work on this estimator.
    """

    max_remembered = WORD_CACHE_LIMIT

    def fit(self, texts: Iterable[str], y=None):
        self.n_features_in_ = 1
        return self

    def transform(self, texts: Iterable[str]) -> list[str]:
        _, _, known, _ = self._pipeline()
        if len(known) > self.max_remembered:
            known.clear()
        # spaCy splits on whitespace first and tokenizes each piece on its own, so a piece's lemmas can be
        # remembered: most words recur, and a remembered one costs a dictionary lookup instead of a Doc
        out = []
        for text in texts:
            words = text.split()
            for word in [word for word in words if word not in known]:
                known[word] = self.lemmatize_piece(word)
            out.append(" ".join(filter(None, map(known.__getitem__, words))))
        return out

    def lemmatize_piece(self, word: str) -> str:
        """The lemmas of one whitespace-free piece, as spaCy gives them.

        A word with only punctuation round it needs no tokenizer: spaCy would split the
        punctuation off and leave the word whole, and the word features ignore punctuation.
        Skipping the tokenizer for these, half of the pieces not seen before, makes a new
        piece a lookup. Not when the word with some of that punctuation is one of spaCy's
        special cases ("cannot", or "m." in "p.m."): spaCy checks for them before each
        character it strips, so every such span is checked here too.
        """
        nlp, lemmas, _, special = self._pipeline()
        end = len(word.rstrip(_EDGE_PUNCTUATION))
        start = len(word) - len(word.lstrip(_EDGE_PUNCTUATION))
        core = word[start:end]
        if core.isalpha() and not any(word[i:j] in special for i in range(start + 1)
                                      for j in range(end, len(word) + 1)):
            return lemmas.get(core, core).lower()
        return " ".join(lemmas.get(token.orth, token.orth_).lower() for token in nlp.tokenizer(word)
                        if not token.is_space)

    def _pipeline(self):
        loaded = self.__dict__.get("_nlp")
        if loaded is None:
            nlp = build_spacy()
            lookup = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
            loaded = self.__dict__["_nlp"] = (nlp, lookup, {}, frozenset(nlp.tokenizer.rules))
        return loaded

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_nlp", None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
