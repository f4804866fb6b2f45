"""PocketSphinx's bundled US English model on real recordings (pocketsphinx-testdata),
converted to the phone band: 8 kHz mu-law, upsampled to 16 kHz inside the engine."""
import logging

import pytest

from speech.audio import read_wav

from .conftest import CARD_WORDS


CARDS_GRAMMAR = "/usr/share/pocketsphinx/test/data/cards/cards.gram"


def recognise(engine, path, phrases, jsgf_text=None):
    audio = read_wav(path)
    assert audio.sample_rate == 8000 and audio.encoding == "mulaw"
    rec = engine.recognizer(8000, phrases, jsgf_text=jsgf_text)
    for i in range(0, len(audio.pcm16), 320):
        rec.accept(audio.pcm16[i:i + 320])
    return rec.finish()


@pytest.fixture(scope="module")
def cards_jsgf():
    # The recordings' own grammar, from Debian's pocketsphinx-testdata (installed by .ci/run).
    with open(CARDS_GRAMMAR) as f:
        return f.read()


@pytest.mark.parametrize("ident", ["001", "002", "003", "004", "005"])
def test_cards_grammar_on_phone_band_recordings(en_engine, audio_path, transcripts, cards_jsgf, ident):
    hyp = recognise(en_engine, audio_path("en", f"cards_{ident}.wav"), None, jsgf_text=cards_jsgf)
    assert hyp.final and hyp.engine == "pocketsphinx"
    assert hyp.transcript == transcripts["en"][f"cards_{ident}.wav"]


@pytest.mark.parametrize("ident", ["001", "003"])
def test_phrase_list_grammar_on_single_cards(en_engine, audio_path, transcripts, ident):
    # The IVR's own kind of grammar: a list of phrases, said one to three at a time.
    ranks = ["ace", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "jack", "queen", "king"]
    phrases = [f"{r} of {s}" for r in ranks for s in ("clubs", "hearts", "diamonds", "spades")]
    hyp = recognise(en_engine, audio_path("en", f"cards_{ident}.wav"), phrases)
    assert hyp.transcript == transcripts["en"][f"cards_{ident}.wav"]


def test_grammar_restricts_the_words(en_engine, audio_path):
    hyp = recognise(en_engine, audio_path("en", "goforward.wav"), ["go forward", "go backward", "ten meters", "five meters"])
    assert hyp.transcript == "go forward ten meters"
    other = recognise(en_engine, audio_path("en", "goforward.wav"), ["yes", "no"])
    assert set(other.transcript.split()) <= {"yes", "no"}


def test_decoders_are_reused_across_streams(audio_path):
    from speech.pocketsphinx_engine import PocketSphinxEngine

    engine = PocketSphinxEngine("en-US", workers=0)  # the decoders of one process (each worker's)
    before = engine.idle_decoders()
    for _ in range(3):
        recognise(engine, audio_path("en", "cards_004.wav"), CARD_WORDS)
    assert engine.idle_decoders() == max(before, 1)


def test_missing_dictionary_words_are_reported(en_engine, caplog):
    assert en_engine.missing_words(["billing", "zorblax"]) == ["zorblax"]
    with caplog.at_level(logging.WARNING, logger="speech.pocketsphinx_engine"):
        for _ in range(3):  # every call at this step builds the same grammar: one warning
            en_engine.recognizer(8000, ["billing", "zorblax"]).close()
    assert caplog.text.count("zorblax") == 1


def test_rates_that_do_not_divide_16k_are_refused(en_engine):
    with pytest.raises(ValueError, match="cannot upsample 11025 Hz to 16000 Hz by a whole factor"):
        en_engine.recognizer(11025, ["yes"])


def test_a_spoken_digit_string_through_the_phone_number_step(en_engine, audio_path):
    # A real TIDIGITS recording: five digits in a row, heard with what a digits answer listens for. Five
    # digits are no US phone number (en-US hears ten, speech.grammar.number_structure): a language
    # without a country hears digits in a row of any length.
    from understanding.numbers import spoken_digits
    from speech.grammar import grammar_for

    grammar = grammar_for("digits", "en")
    assert en_engine.search_spec(grammar)[0] == "fsg"
    hyp = recognise(en_engine, audio_path("en", "tidigits_2934z.wav"), grammar)
    assert spoken_digits(hyp.transcript, "en-US") == "29340"


@pytest.mark.parametrize("prepared", [False, True], ids=["searches added one by one", "prepared together"])
def test_one_questions_words_do_not_leak_into_another_questions_model(en_engine, prepared):
    # PocketSphinx adds each new dictionary word, as a unigram, to every language model the decoder
    # already holds: once the time question's words were added, the phone-number model could hear
    # "tomorrow" between two digits ("two one tomorrow five ..."), and test runs heard differently
    # depending on which questions came first.
    from config import load_ivr_config
    from speech.grammar import grammar_for_config
    from speech.pocketsphinx_engine import LocalDecoders

    config = load_ivr_config()
    specs = {kind: en_engine.search_spec(grammar_for_config(kind, "en-US", config))
             for kind in ("digits", "yes_no", "time", "skill")}
    # Phone numbers are searched by their counted grammar (a grammar takes no unigrams); its words are
    # still added to every decoder and must not leak into the language models.
    assert [kind for kind, spec in specs.items() if spec[0] == "lm"] == ["yes_no", "time", "skill"]
    decoders = LocalDecoders()
    if prepared:
        decoders.prepare(list(specs.values()), 1)
        pooled = decoders._take(True)
    else:
        pooled = decoders._take(True)
        for spec in specs.values():
            decoders._add_search(pooled, spec)
    unknown = -536870912  # PocketSphinx's score for a word the model does not have
    for kind, spec in specs.items():
        if spec[0] != "lm":
            continue
        model = pooled.decoder.get_lm(spec.name)
        own = LocalDecoders.words_of(spec)
        others = set().union(*(LocalDecoders.words_of(s) for k, s in specs.items() if k != kind)) - own
        assert others, kind
        leaked = sorted(w for w in others if w in pooled.words and model.prob([w]) != unknown)
        assert not leaked, f"the {kind} model holds other questions' words: {leaked[:10]}"
        assert all(model.prob([w]) != unknown for w in own if w in pooled.words)
