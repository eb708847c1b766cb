"""The trained model: contract IDs only, reproducible training, safe saving and loading."""

from __future__ import annotations

import json
import zipfile

import pytest

from triage.classify import load_classifier
from triage.classify.model import Message
from triage.classify.persistence import CARD_FILE, ESTIMATORS_FILE, ModelTampered, sha256_file
from triage.classify.taxonomy import LABEL_HEADS, ids
from triage.classify.training import TrainConfig, train
from triage.classify.urgency import LEXICON_FILE, load_lexicon

ODD_MESSAGES = [
    ("bin", "sms", None),
    ("🙃🙃🙃", "telegram", None),
    ("Mae'r golau stryd tu allan i rif 4 wedi torri ers wythnos", "webchat", None),
    ("Re: PCN AB30498127\n\nI was parked legally, see attached.\n\nSent from my iPhone", "email", "Re: PCN"),
    ("Counci1 Tax Dept\n\nDear Sir\n\nI have rnoved out on 3rd March. P1ease c1ose my account 4OO23391.", "post", None),
    ("my neighbour is 88 and has had no heating since Friday", "sms", None),
]


def test_every_head_answers_only_with_contract_ids(tiny_model):
    for text, channel, subject in ODD_MESSAGES:
        prediction = tiny_model.predict(text, channel=channel, subject=subject)
        for head in LABEL_HEADS:
            assert getattr(prediction, head) in ids(head)
            assert 0.0 <= prediction.confidence[head] <= 1.0
        assert prediction.language in ids("language")
        assert isinstance(prediction.urgent, bool)
        assert [label for label, _ in prediction.service_top3][0] == prediction.service
        assert all(label in ids("service") for label, _ in prediction.service_top3)
        assert prediction.model_version == "tiny"


def test_a_batch_gives_each_message_what_it_gets_alone(tiny_model):
    """The batch path works out labels, confidences and the top 3 for all rows at once; a message's answer
    must not depend on what it was batched with."""
    messages = [Message(text, channel, subject) for text, channel, subject in ODD_MESSAGES]
    batch = tiny_model.predict_many(messages)
    assert batch == [tiny_model.predict(m.text, channel=m.channel, subject=m.subject) for m in messages]
    for prediction in batch:
        probabilities = [p for _, p in prediction.service_top3]
        assert len(probabilities) == 3 and probabilities == sorted(probabilities, reverse=True)
        assert prediction.service_top3[0] == (prediction.service, prediction.confidence["service"])


def test_urgent_says_why_and_entities_reach_the_prediction(tiny_model):
    prediction = tiny_model.predict("strong smell of gas in the hallway, my nan is 90. PF3 7QA", channel="sms")
    assert prediction.urgent
    assert "gas_leak" in prediction.urgent_reasons
    assert prediction.entities["postcode"] == ["PF3 7QA"]


def test_same_data_and_seed_give_the_same_model(tiny_corpus, tiny_model):
    again = train(tiny_corpus, TrainConfig(seed=1), "tiny").model
    assert again.card["held_out"] == tiny_model.card["held_out"]
    assert again.urgent_threshold == tiny_model.urgent_threshold
    first = tiny_model.predict("my bin was missed again", channel="sms")
    second = again.predict("my bin was missed again", channel="sms")
    assert first.confidence == second.confidence


def test_saved_model_loads_and_predicts_the_same(model_dir, tiny_model):
    loaded = load_classifier(model_dir)
    text = "can i have a new recycling box please"
    assert loaded.predict(text, channel="webchat") == tiny_model.predict(text, channel="webchat")
    card = json.loads((model_dir / "tiny" / CARD_FILE).read_text())
    assert set(card["summary"]) >= {"service_macro_f1", "urgent_recall", "language_accuracy"}
    assert card["data"]["hash"] and card["libraries"]["scikit-learn"]


def test_warm_up_builds_what_every_forked_job_would_otherwise_build(model_dir):
    loaded = load_classifier(model_dir)
    loaded.warm_up()
    features = loaded.features
    assert "_nlp" in features.lemmatizer_.__dict__ and loaded.language._lingua is not None
    assert all("_fitted" in block.__dict__ for block in (features.words_, features.chars_))
    # the phrases nearly every message reaches are compiled, so that no forked job compiles one again
    for language in ("en", "cy"):
        assert all("pattern" in phrase.__dict__ for phrase in load_lexicon(LEXICON_FILE, language).phrases)
    # and a message in another language reaches those same phrases, compiled, besides its own language's
    common = set(load_lexicon(LEXICON_FILE, "cy").phrases)
    assert common <= set(load_lexicon(LEXICON_FILE, "other").phrases)


def test_a_model_used_after_loading_saves_and_loads_the_same(model_dir, tmp_path):
    loaded = load_classifier(model_dir)
    loaded.warm_up()  # the vocabularies are now built, their terms held as the vocabulary's strings
    again = load_classifier(loaded.save(tmp_path / "again").parent, "again")
    text = "parking ticket PCN AB12345678 was wrong"
    assert again.predict(text, channel="email") == loaded.predict(text, channel="email")
    assert again.features.words_.terms_.tolist() == loaded.features.words_.terms_.tolist()


def test_a_changed_byte_in_the_model_file_is_refused(model_dir):
    path = model_dir / "tiny" / ESTIMATORS_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelTampered, match="SHA-256"):
        load_classifier(model_dir)


def test_an_extra_file_in_the_model_directory_is_refused(model_dir):
    (model_dir / "tiny" / "payload.pkl").write_bytes(b"not listed in the card")
    with pytest.raises(ModelTampered, match="differ from the model card"):
        load_classifier(model_dir)


def test_an_untrusted_type_is_refused_even_with_a_matching_card(model_dir):
    """Someone who can rewrite the card too still cannot smuggle in a type skops was not told to trust."""
    import skops.io as sio
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    directory = model_dir / "tiny"
    state = sio.load(directory / ESTIMATORS_FILE, trusted=sio.get_untrusted_types(file=directory / ESTIMATORS_FILE))
    state["features"] = Pipeline([("f", FunctionTransformer(print))])
    sio.dump(state, directory / ESTIMATORS_FILE)
    card = json.loads((directory / CARD_FILE).read_text())
    card["files"][ESTIMATORS_FILE] = sha256_file(directory / ESTIMATORS_FILE)
    (directory / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ModelTampered, match="untrusted types"):
        load_classifier(model_dir)


def test_model_file_is_skops_not_pickle(model_dir):
    assert zipfile.is_zipfile(model_dir / "tiny" / ESTIMATORS_FILE)


def test_feature_estimators_follow_sklearn_conventions(tiny_model):
    """`clone` and `get_params` work, and the lazily built spaCy pipeline is never part of the saved state."""
    from sklearn.base import clone

    features = tiny_model.features
    assert clone(features).get_params()["max_chars"] == features.max_chars
    lemmatizer = features.lemmatizer_
    lemmatizer.transform(["bins weren't collected"])
    assert "_nlp" in lemmatizer.__dict__ and "_nlp" not in lemmatizer.__getstate__()
    assert lemmatizer.transform(["bins weren't collected"]) == ["bin be not collect"]


def test_the_urgent_threshold_is_the_median_of_its_fold_splits(tiny_corpus, tiny_model):
    """One fold split alone moves the tuned threshold; the card shows each split's and the model keeps the median."""
    by_split = tiny_model.card["urgent_threshold_by_split"]
    assert len(by_split) == TrainConfig().urgent_threshold_splits == 3
    assert tiny_model.urgent_threshold == pytest.approx(sorted(by_split)[1], abs=1e-6)
    one = train(tiny_corpus, TrainConfig(seed=1, urgent_threshold_splits=1), "one").model
    assert one.card["urgent_threshold_by_split"] == by_split[:1]
    assert one.urgent_threshold == pytest.approx(by_split[0], abs=1e-6)


def test_a_threshold_tuned_on_no_fold_split_is_refused_before_training():
    with pytest.raises(ValueError, match="urgent_threshold_splits"):
        TrainConfig(urgent_threshold_splits=0)
