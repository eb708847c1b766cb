"""Language on short texts, and the urgent lexicon in English and Welsh (with its hard negatives)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage.classify.dataset import load_samples
from triage.classify.language import LanguageDetector
from triage.classify.urgency import LEXICON_FILE, load_lexicon, urgent_reasons

DATA = Path(__file__).resolve().parents[2] / "training_data"
DETECTOR = LanguageDetector()


@pytest.mark.parametrize("text, language", [
    ("missed bin pls", "en"),
    ("hi can u renew my books thx", "en"),
    ("bin heb ei gasglu", "cy"),
    ("golau stryd wedi torri", "cy"),
    ("Faint o'r gloch mae'r llyfrgell yn cau heno?", "cy"),
    ("Dzień dobry, nie zabrano moich śmieci od dwóch tygodni.", "other"),
    ("Hola, me mudé a un piso nuevo y quiero registrarme para votar.", "other"),
    ("مرحبا، لقد أرسلت كشوف الحساب البنكي مرتين", "other"),
    ("STOP", "en"),
])
def test_language_of_short_and_long_texts(text, language):
    assert DETECTOR.detect(text) == language


@pytest.mark.parametrize("text, reason", [
    ("strong smell of gas in my kitchen, flat 2", "gas_leak"),
    ("there are wires hanging out of the lamp post at knee height", "exposed_wiring"),
    ("water is pouring through the ceiling into my kitchen", "flooding_home"),
    ("the chimney on the empty house is swaying in the wind and bricks came down", "dangerous_structure"),
    ("I've been saving my tablets up", "suicide_self_harm"),
    ("my husband hits me and I'm scared to go to bed", "domestic_abuse"),
    ("little boy about 6 on his own outside, door locked", "child_at_risk"),
    ("me and my 2 kids have nowhere to sleep tonight", "nowhere_to_sleep"),
    ("no heating since Friday and she's 88", "no_heat_or_water_vulnerable"),
    ("Mae'r plentyn drws nesa yn cael ei daro bob nos", "domestic_abuse"),
    ("arogl nwy cryf yn y gegin", "gas_leak"),
    ("does gen i nunlle i gysgu heno", "nowhere_to_sleep"),
    ("the kitchen has smelt of gas since yesterday", "gas_leak"),
    ("dad fell in the bathroom and we can't get him up", "person_fallen_or_care_missed"),
    ("the carer never turned up for mum's bedtime call, she's 94", "person_fallen_or_care_missed"),
    ("there are used needles in the bushes by the play area", "sharps"),
    ("the leak is dripping onto the fuse box under the stairs", "water_on_electrics"),
    ("my daughter has a stalker, please take her off the open register", "stalking_or_protection"),
    ("If I lose I have nothing. I have got the rope in the garage", "suicide_self_harm"),
    ("I parked there because my ex-partner hit him and he was bleeding", "domestic_abuse"),
    ("Mój mąż bije mnie, boję się wrócić do domu", "domestic_abuse"),
    ("Мій чоловік мене б'є, сьогодні знову", "domestic_abuse"),
    ("زوجي يضربني كل يوم", "domestic_abuse"),
    ("Dyn yn tynnu lluniau o'r plant yn y llyfrgell", "child_at_risk"),
    ("found a syringe by the swings this morning", "sharps"),
    ("mum's alarm pendant has stopped working since the storm", "person_fallen_or_care_missed"),
    ("my brother keeps saying he will kill himself", "suicide_self_harm"),
    ("he hasn't had any food since Friday and won't answer the door", "adult_at_risk"),
    ("Nie mam gdzie spać dzisiaj, właściciel zmienił zamki", "nowhere_to_sleep"),
    ("As crianças estão sozinhas? Não — os meninos estão sozinhos em casa desde ontem", "child_at_risk"),
    ("someone's set fire to the bins behind the flats, flames going up the wall", "dangerous_structure"),
    ("kids set fire to something under the slide, it's still smoking", "dangerous_structure"),
    ("polyn ffôn wedi cael ei daro gan lori, yn pwyso dros y ffordd", "dangerous_structure"),
    ("please don't send it to the house, I'm scared he'll find me", "domestic_abuse"),
    ("she's been lying there since the night and nobody has come", "adult_at_risk"),
    ("the landlord changed the locks, we have nowhere to go tonight", "nowhere_to_sleep"),
])
def test_lexicon_names_why_a_message_is_urgent(text, reason):
    assert reason in urgent_reasons(text)


@pytest.mark.parametrize("text", [
    "URGENT!!! my bin has not been collected AGAIN",
    "I want to query my gas bill, it seems too high",
    "the noise from number 8 is MURDER, this is going to kill me",
    "can I run my dog grooming business from the garage?",
    "the football pitch has no lights working",
    "my application can't go on the waiting list until I send proof of address",
    "Mr R. Stalker, 16 Foundry Street: photographs of the abandoned car enclosed",
    "the carer who comes on Tuesdays was lovely, thank you",
    "we have got a rope swing on the tree by the green, is that allowed?",
    "the ball hit him on the head at football, he's fine, just wanted to say the nets are torn",
    "Dzień dobry, kiedy jest odbiór śmieci na ulicy Polnej?",
    "Zabije się ktoś na tym chodniku, taka dziura",  # "someone will get killed": a pothole, not suicide
    # fires and threats that are over, and words of risk used of something else
    "someone set fire to our wheelie bin last night, it's just a melted lump now, can we have a new one",
    "a car was set on fire in the car park on Sunday, it needs taking away",
    "how do I get on the childcare list so parents can find me?",
    "I'm worried they will not find me on the electoral register when I go to vote",
    "our daughter is missing out, we'd like a short breaks assessment",
    "Child Missing Education referral: a pupil has left our roll",
    "the dog has been tied up in the yard for two days, it's just lying there shivering",
    "gafodd fy nghar ei daro yn y maes parcio, dw i isio gweld y CCTV",
    "yesterday's rain had nowhere to go and there was a pool across the road",
    "I will have nowhere to go on release, my probation officer said to write now",
    "my landlord is selling and I've got nowhere to go after the end of the month",
])
def test_lexicon_ignores_everyday_words_of_danger(text):
    assert urgent_reasons(text) == ()


def test_a_vehicle_striking_a_pole_is_a_dangerous_structure_not_abuse():
    """"Ei daro" (struck) names a child or a partner being hit, but a pole or a car "cael ei daro gan lori" is
    struck by a vehicle: the duty team must see the right reason."""
    reasons = urgent_reasons("polyn golau stryd wedi cael ei daro gan gar ger yr ysgol, mae o ar lawr", "cy")
    assert "dangerous_structure" in reasons
    assert not {"child_at_risk", "domestic_abuse"} & set(reasons)
    assert urgent_reasons("mae ei dad yn ei daro fo yn yr ardd, mae gynno fo gleisiau", "cy")


def test_a_lexicon_is_built_once_however_it_is_asked_for():
    assert load_lexicon(language="en") is load_lexicon(LEXICON_FILE, "en") is load_lexicon(str(LEXICON_FILE), "en")


def test_needles_skip_only_texts_a_phrase_cannot_match():
    """Every match of a phrase with needles contains one of them, in every urgent corpus text and a quarter of
    the rest (all of them took too long; the needles are also derived from each parsed pattern, tested in
    test_needles.py). Phrases of other languages are checked on the texts not in English, the only ones
    they are tried on."""
    samples = [s for i, s in enumerate(load_samples(DATA)) if s.urgent or i % 4 == 0]
    english = set(load_lexicon(language="en").phrases)
    every = load_lexicon(language="other").phrases
    assert sum(phrase.needles is None for phrase in every) < 0.02 * len(every)
    matched = 0
    for sample in samples:
        text = sample.text.replace("’", "'").lower()
        # phrases of other languages are only tried on messages not in English (PHRASES_TRIED)
        for phrase in every if sample.language != "en" else english:
            for match in phrase.pattern.finditer(text) if phrase.needles is not None else ():
                assert any(needle in match.group(0) for needle in phrase.needles), (phrase.pattern.pattern, text)
                matched += 1
    assert matched > 1000


def test_a_phrase_in_another_language_fires_alone_and_a_list_only_whole(tmp_path):
    lexicon_file = tmp_path / "lexicon.json"
    lexicon_file.write_text(json.dumps({"reasons": {
        "gas_leak": {"all": [["smell of gas"]], "also": {"pl": [r"czuć\s+gaz"]}},
        "no_heat_or_water_vulnerable": {"also": {"pl": [[r"nie\s+mamy\s+ogrzewania", r"\bdzieck"]]}},
    }}), encoding="utf-8")
    lexicon = load_lexicon(lexicon_file)

    assert urgent_reasons("Czuć gaz na klatce schodowej", lexicon=lexicon) == ("gas_leak",)
    assert urgent_reasons("smell of gas, czuć gaz", lexicon=lexicon) == ("gas_leak",)
    assert urgent_reasons("Nie mamy ogrzewania od wtorku, w domu jest dziecko", lexicon=lexicon) == \
        ("no_heat_or_water_vulnerable",)
    assert urgent_reasons("Nie mamy ogrzewania od wtorku", lexicon=lexicon) == ()


def test_phrases_of_other_languages_are_tried_only_on_messages_not_in_english(tmp_path):
    lexicon_file = tmp_path / "lexicon.json"
    lexicon_file.write_text(json.dumps({"reasons": {
        "gas_leak": {"all": [["smell of gas"]], "also": {"cy": ["arogl nwy"], "pl": [r"czuć\s+gaz"]}},
    }}), encoding="utf-8")

    def reasons(text, language):
        return urgent_reasons(text, language, load_lexicon(lexicon_file, language))

    assert reasons("smell of gas in the hall", "en") == ("gas_leak",)
    assert reasons("czuć gaz", "en") == ()
    assert reasons("czuć gaz", "other") == ("gas_leak",)
    assert reasons("arogl nwy yn y gegin", "en") == ()
    assert reasons("arogl nwy yn y gegin", "cy") == ("gas_leak",)
    assert reasons("arogl nwy yn y gegin", "other") == ("gas_leak",)


def test_a_shared_pattern_is_written_once_and_read_by_every_entry_that_names_it(tmp_path):
    lexicon_file = tmp_path / "lexicon.json"
    lexicon_file.write_text(json.dumps({"shared": {"vulnerable_pl": r"\bdzieck|\bbabci"}, "reasons": {
        "no_heat_or_water_vulnerable": {"also": {"pl": [[r"nie\s+mamy\s+ogrzewania", "@vulnerable_pl"],
                                                        [r"nie\s+mamy\s+wody", "@vulnerable_pl"]]}},
    }}), encoding="utf-8")
    lexicon = load_lexicon(lexicon_file)

    assert urgent_reasons("Nie mamy wody, a u babci jest zimno", lexicon=lexicon) == ("no_heat_or_water_vulnerable",)
    assert urgent_reasons("Nie mamy ogrzewania, w domu jest dziecko", lexicon=lexicon) == \
        ("no_heat_or_water_vulnerable",)
    assert urgent_reasons("Nie mamy wody od rana", lexicon=lexicon) == ()

    misspelt = tmp_path / "misspelt.json"
    misspelt.write_text(json.dumps({"reasons": {"gas_leak": {"also": {"pl": [["gaz", "@vulnerable"]]}}}}),
                        encoding="utf-8")
    with pytest.raises(ValueError, match="@vulnerable names no pattern"):
        load_lexicon(misspelt)
