import math

import pytest

from speech.ngram import TrigramModel, arpa_from_sentences

SENTENCES = [s.split() for s in ["i want to pay my bill", "my internet is down", "i want to talk to someone",
                                 "billing please", "sales", "i want to buy a phone"]]


@pytest.mark.parametrize("history", [(), ("<s>",), ("i",), ("<s>", "i"), ("i", "want"), ("want", "to"),
                                     ("please", "sales"), ("bill", "my")])
def test_every_history_is_a_probability_distribution(history):
    model = TrigramModel(SENTENCES)
    total = sum(model.prob(history[-2:] + (w,)) for w in model.vocabulary + ["</s>"])
    assert math.isclose(total, 1.0, abs_tol=1e-9)


def test_seen_sequences_are_likelier_than_unseen_ones():
    model = TrigramModel(SENTENCES)
    assert model.prob(("want", "to", "pay")) > model.prob(("want", "to", "internet"))
    assert model.prob(("internet", "bill")) > 0  # anything may follow anything, a little


def test_arpa_lists_each_order_with_counts():
    arpa = arpa_from_sentences(SENTENCES)
    head = arpa.split("\n\n")[0].splitlines()
    counts = {int(line.split()[1].split("=")[0]): int(line.split("=")[1]) for line in head[1:]}
    for n in (1, 2, 3):
        section = arpa.split(f"\\{n}-grams:\n")[1].split("\n\n")[0].splitlines()
        assert len(section) == counts[n]
    assert "-99.0000 <s>" in arpa and arpa.rstrip().endswith("\\end\\")
