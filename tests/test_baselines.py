"""The baselines of a language model on real text: uniform, unigram,
Kneser-Ney n-grams and compressors, and the bad input each refuses."""

from __future__ import annotations

import inspect
import math
import random

import numpy as np
import pytest
from badinput import Call, cases, check_case, check_valid, public_api

from lstm_tutorial import baselines, chardata
from lstm_tutorial.baselines import (
    METHODS,
    NGramModel,
    best_order,
    compressor_bits_per_char,
    compressor_table,
    uniform_bits,
    unigram_bits,
)
from lstm_tutorial.text import Vocab, char_tokens, word_tokens

PROSE = (
    "The cat sat on the mat. The dog sat on the log. A cat and a dog met on "
    "the mat, and the cat ran to the log while the dog sat still. "
) * 3 + "Then the bird sang, and nobody sat on the mat again."
OTHER = "A fox jumped over the lazy dog; the bird flew off, and the cat slept."


def char_data():
    tokens = char_tokens(PROSE)
    # a vocabulary with tokens the training text never holds: unseen contexts
    vocab = Vocab.build(tokens + char_tokens(OTHER), unk="<unk>")
    return tokens, vocab


def word_data():
    tokens = word_tokens(PROSE)
    vocab = Vocab.build(tokens + word_tokens(OTHER), unk="<unk>")
    return tokens, vocab


DATA = {"char": char_data, "word": word_data}


# ------------------------------------------------------------ context-free ones


def test_uniform_is_log2_of_the_vocabulary_size():
    assert uniform_bits(1) == 0.0
    assert uniform_bits(104) == pytest.approx(math.log2(104))
    assert uniform_bits(np.int64(8)) == 3.0


def test_unigram_matches_a_hand_computed_example():
    vocab = Vocab(("<unk>", "a", "b"), unk="<unk>")
    train, valid = ["a", "a", "b"], ["a", "b", "c"]  # "c" counts as <unk>
    # counts a=2, b=1, <unk>=0 over N=3 tokens, V=3
    expected = -(math.log2(3 / 6) + math.log2(2 / 6) + math.log2(1 / 6)) / 3
    assert unigram_bits(train, valid, vocab) == pytest.approx(expected)
    half = -(math.log2(2.5 / 4.5) + math.log2(1.5 / 4.5) + math.log2(0.5 / 4.5))
    assert unigram_bits(train, valid, vocab, alpha=0.5) == pytest.approx(
        half / 3
    )


def test_unigram_equals_the_add_one_baseline_of_chardata():
    text = PROSE + OTHER
    cut = round(0.8 * len(text))
    vocab = Vocab.build(char_tokens(text), unk=None)
    ids = np.array([vocab.index[c] for c in text])
    ours = unigram_bits(char_tokens(text[:cut]), char_tokens(text[cut:]), vocab)
    theirs = chardata.unigram_bits_per_char(ids[:cut], ids[cut:], vocab.size)
    assert ours == pytest.approx(theirs)


def test_unknown_tokens_without_an_unk_are_refused_naming_the_argument():
    vocab = Vocab(("a", "b"))
    with pytest.raises(ValueError, match=r"valid_tokens holds 1 .*no unk"):
        unigram_bits(["a", "b"], ["a", "z"], vocab)
    with pytest.raises(ValueError, match="train_tokens"):
        NGramModel(["a", "z"], 2, vocab)
    model = NGramModel(["a", "b", "a"], 2, vocab)
    with pytest.raises(ValueError, match="context"):
        model.log2_prob(["z"], "a")
    with pytest.raises(ValueError, match="token"):
        model.log2_prob(["a"], "z")
    with pytest.raises(ValueError, match="history"):
        model.bits(["a"], history=["z"])


# ----------------------------------------------------------- Kneser-Ney n-grams


def random_contexts(tokens, vocab, rng, count=12):
    """Contexts of the training text, of random vocabulary tokens (mostly unseen
    sequences), of tokens outside the vocabulary, and the empty one."""
    out = [[], ["never-a-token"], [vocab.unk]]
    for _ in range(count):
        k = rng.randrange(len(tokens) - 6)
        out.append(tokens[k : k + rng.randint(1, 5)])
        out.append(rng.choices(vocab.tokens, k=rng.randint(1, 6)))
    return out


@pytest.mark.parametrize("level", sorted(DATA))
@pytest.mark.parametrize("discount", [None, 0.5, 1.0])
def test_probabilities_sum_to_one_for_seen_and_unseen_contexts(level, discount):
    tokens, vocab = DATA[level]()
    rng = random.Random(0)
    unseen = set(vocab.tokens) - set(tokens)
    assert unseen  # the vocabulary holds tokens the training text lacks
    for order in (1, 2, 3, 5):
        model = NGramModel(tokens, order, vocab, discount=discount)
        for context in random_contexts(tokens, vocab, rng):
            p = model.distribution(context)
            assert list(p) == list(vocab.tokens)
            assert min(p.values()) > 0
            assert sum(p.values()) == pytest.approx(1.0, abs=1e-12)
            token = rng.choice(vocab.tokens)
            assert model.log2_prob(context, token) == pytest.approx(
                math.log2(p[token])
            )


def test_discounts_are_estimated_from_counts_of_counts_or_fixed():
    tokens = char_tokens(chardata.python_docs_text()[:60_000])
    vocab = Vocab.build(tokens, unk="<unk>")
    model = NGramModel(tokens, 3, vocab)
    assert model.discount is None and len(model.discounts) == 3
    for d1, d2, d3 in model.discounts[1:]:  # real text: estimated, in range
        assert 0 < d1 <= 1 and 0 < d2 <= 2 and 0 < d3 <= 3
        assert d1 < d2 < d3  # larger counts lose more, as usual
    fixed = NGramModel(tokens, 3, vocab, discount=0.6)
    assert fixed.discounts == ((0.6, 0.6, 0.6),) * 3
    # too few counts of counts for an estimate: the fixed fallback
    tiny = NGramModel(["a", "b"], 2, Vocab(("a", "b")))
    assert tiny.discounts == ((baselines.FALLBACK_DISCOUNT,) * 3,) * 2


def test_order_one_is_the_discounted_unigram_spread_over_the_vocabulary():
    vocab = Vocab(("<unk>", "a", "b", "c"), unk="<unk>")
    d = 0.5
    model = NGramModel(["a", "a", "b"], 1, vocab, discount=d)
    # counts a=2, b=1 (N=3, 2 kinds seen): the discounts free 2d for 1/V each
    expected = {
        "<unk>": (2 * d / 4) / 3,
        "a": (2 - d + 2 * d / 4) / 3,
        "b": (1 - d + 2 * d / 4) / 3,
        "c": (2 * d / 4) / 3,
    }
    assert model.distribution([]) == pytest.approx(expected)
    # the context is ignored at order 1
    assert model.distribution(["b", "a"]) == pytest.approx(expected)
    # with estimated discounts: p(w) = (c(w) - D(c(w)) + F / V) / N
    tokens, vocab = char_data()
    model = NGramModel(tokens, 1, vocab)
    counts = {t: tokens.count(t) for t in vocab.tokens}
    discount = model.discounts[0]
    freed = sum(discount[min(c, 3) - 1] for c in counts.values() if c)
    for t, c in counts.items():
        kept = c - discount[min(c, 3) - 1] if c else 0.0
        p = (kept + freed / vocab.size) / len(tokens)
        assert model.log2_prob([], t) == pytest.approx(math.log2(p))


def test_order_two_backs_off_to_continuation_counts_not_raw_counts():
    vocab = Vocab(("a", "b", "c"))
    d = 0.5
    model = NGramModel(list("abab"), 2, vocab, discount=d)
    # continuation counts, the start of the text counting as a predecessor:
    # "a" follows the start and "b" (2), "b" follows only "a" (1); total 3
    cont = {
        "a": (2 - d + 2 * d / 3) / 3,
        "b": (1 - d + 2 * d / 3) / 3,
        "c": (2 * d / 3) / 3,
    }
    # "c" never starts a bigram: the context hands down the continuation unigram
    assert model.distribution(["c"]) == pytest.approx(cont)
    # "a" is followed by "b" twice: p(w | a) = (c(a w) - d + d p_cont(w)) / 2
    after_a = {
        "a": d * cont["a"] / 2,
        "b": (2 - d + d * cont["b"]) / 2,
        "c": d * cont["c"] / 2,
    }
    assert model.distribution(["a"]) == pytest.approx(after_a)
    # raw counts would differ: "a" occurs 2 times, "b" 2 times
    assert cont["a"] != pytest.approx(cont["b"])


@pytest.mark.parametrize("level", sorted(DATA))
def test_bits_is_the_mean_of_log2_prob_with_or_without_history(level):
    tokens, vocab = DATA[level]()
    head, tail = tokens[:-20], tokens[-20:]
    model = NGramModel(head, 3, vocab)
    alone = -sum(
        model.log2_prob(tail[:j], tail[j]) for j in range(len(tail))
    ) / len(tail)
    assert model.bits(tail) == pytest.approx(alone)
    after = -sum(
        model.log2_prob(head + tail[:j], tail[j]) for j in range(len(tail))
    ) / len(tail)
    assert model.bits(tail, history=head) == pytest.approx(after)
    assert model.bits(tail, history=head[-2:]) == pytest.approx(after)
    assert model.bits(tail, history=[]) == pytest.approx(alone)


@pytest.mark.parametrize("level", sorted(DATA))
def test_a_higher_order_beats_a_lower_one_on_repetitive_text(level):
    tokens, vocab = DATA[level]()
    cut = round(0.8 * len(tokens))
    train, valid = tokens[:cut], tokens[cut:]
    bits = [
        NGramModel(train, k, vocab).bits(valid, history=train)
        for k in (1, 2, 3)
    ]
    assert bits[0] > bits[1] > bits[2]
    assert bits[0] < uniform_bits(vocab.size)


def test_best_order_scores_each_order_on_the_tail_of_the_training_tokens():
    tokens, vocab = char_data()
    orders = (1, 2, 4, 6)
    order, dev = best_order(tokens, vocab, orders=orders, dev_fraction=0.2)
    cut = round(0.8 * len(tokens))
    head, tail = tokens[:cut], tokens[cut:]
    assert list(dev) == list(orders)
    for k in orders:
        refit = NGramModel(head, k, vocab).bits(tail, history=head)
        assert dev[k] == pytest.approx(refit, abs=1e-12)
    assert order == min(orders, key=dev.get) and order > 1
    # it is never given a validation text to choose on
    assert set(inspect.signature(best_order).parameters) == {
        "train_tokens",
        "vocab",
        "orders",
        "dev_fraction",
        "discount",
    }


def test_best_order_never_fits_on_the_dev_tail():
    # a periodic head, then a random tail: a fit that had seen the tail would
    # predict it almost perfectly at a high order; the dev bits stay high
    vocab = Vocab(("a", "b", "c", "d"))
    head = list("abcabd") * 60
    tail = random.Random(1).choices("abcd", k=40)
    tokens = head + tail
    fraction = len(tail) / len(tokens)
    order, dev = best_order(tokens, vocab, dev_fraction=fraction)
    leaked = NGramModel(tokens, 8, vocab).bits(tail, history=head)
    assert leaked < 0.6 and min(dev.values()) > 1.5
    assert order == min(dev, key=dev.get) and list(dev) == list(range(1, 9))
    # on the periodic text itself a long context wins; a tie goes to the smaller
    periodic, _ = best_order(head, vocab)
    assert periodic >= 3
    # one token only: every order predicts it surely, and the tie goes to the
    # smallest order
    one = Vocab(("a",))
    assert best_order(["a"] * 30, one, orders=(4, 2, 3)) == (
        2,
        {2: 0.0, 3: 0.0, 4: 0.0},
    )


def test_best_order_refuses_a_split_that_leaves_a_side_empty():
    with pytest.raises(ValueError, match="dev_fraction"):
        best_order(["a", "b"], Vocab(("a", "b")), dev_fraction=0.1)
    with pytest.raises(ValueError, match="orders"):
        best_order(["a", "b"] * 10, Vocab(("a", "b")), orders=(2, 2))


# ------------------------------------------------------------------ compressors


def word_salad(seed: int, length: int) -> str:
    rng = random.Random(seed)
    words = [
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 8)))
        for _ in range(400)
    ]
    out = []
    while sum(len(w) + 1 for w in out) < length:
        out.append(rng.choice(words))
    return " ".join(out)[:length]


def test_a_repeated_piece_costs_far_fewer_bits_than_a_random_one():
    train = word_salad(0, 20_000)
    repeated = train[12_000:14_000]  # within zlib's last 32 KiB
    fresh = word_salad(1, 2_000)
    table = compressor_table(train, repeated)
    assert list(table) == list(METHODS)
    for method in METHODS:
        cheap = compressor_bits_per_char(train, repeated, method)
        dear = compressor_bits_per_char(train, fresh, method)
        assert cheap == table[method]
        assert cheap < dear / 3 and dear > 2.0
    assert table["lzma"] < 0.5 and table["zlib"] < 0.5  # they copy matches


def test_zlib_sees_only_the_last_32_kib_of_the_training_text():
    train = word_salad(0, 60_000)
    old = train[1_000:3_000]  # about 57 KiB before the end
    table = compressor_table(train, old)
    fresh = compressor_bits_per_char(train, word_salad(1, 2_000), "zlib")
    assert table["lzma"] < 0.5 and table["zlib"] > fresh / 2


def test_compressor_bits_count_characters_not_bytes():
    train, valid = "é" * 500 + "abc" * 300, "é" * 50 + "xyz"
    bits = compressor_bits_per_char(train, valid, "zlib")
    train_b, valid_b = train.encode(), valid.encode()
    expected = 8 * (
        len(baselines.COMPRESSORS["zlib"](train_b + valid_b))
        - len(baselines.COMPRESSORS["zlib"](train_b))
    )
    assert bits == expected / len(valid)


# -------------------------------------------------------------------- bad input

CHARS = char_tokens("abcab cab")
VOCAB = Vocab.build(CHARS, unk="<unk>")
MODEL = NGramModel(CHARS, 2, VOCAB)


def token_list(empty_ok: bool = False, none_ok: bool = False):
    def bad(valid):
        out = [
            ("one string", "".join(valid)),
            *([] if none_ok else [("None", None)]),
            ("int token", [*valid[:-1], 3]),
            ("empty token", [*valid[:-1], ""]),
            ("bytes token", [valid[0].encode(), *valid[1:]]),
            ("set", set(valid)),
            ("dict", dict.fromkeys(valid, 1)),
        ]
        return out if empty_ok else [*out, ("empty", [])]

    return bad


def not_a_vocab(valid):
    return [
        ("None", None),
        ("list of tokens", list(valid.tokens)),
        ("dict", dict(valid.index)),
        ("CharVocab", chardata.CharVocab.from_text("abc ")),
    ]


def bad_discount(valid):
    return [
        ("zero", 0.0),
        ("negative", -0.5),
        ("above 1", 1.5),
        ("bool", True),
        ("str", "0.5"),
        ("nan", math.nan),
        ("inf", math.inf),
    ]


def bad_orders(valid):
    return [
        ("empty", ()),
        ("zero", (0, 2)),
        ("float", (1, 2.0)),
        ("bool", (1, True)),
        ("str", "12"),
        ("None", None),
        ("int", 3),
        ("twice", (2, 2)),
    ]


def bad_method(valid):
    return [
        ("unknown", "gzip"),
        ("upper case", "LZMA"),
        ("None", None),
        ("int", 1),
    ]


def bad_text(valid):
    return [("empty", ""), ("None", None), ("bytes", b"abc"), ("list", ["a"])]


def bad_token(valid):
    return [("empty", ""), ("None", None), ("int", 3), ("list", [valid])]


CALLS = [
    Call(
        uniform_bits,
        lambda: {"vocab_size": 27},
        {"vocab_size": "positive_int"},
    ),
    Call(
        unigram_bits,
        lambda: {
            "train_tokens": list(CHARS),
            "valid_tokens": list("bca"),
            "vocab": VOCAB,
            "alpha": 1.0,
        },
        {
            "train_tokens": token_list(),
            "valid_tokens": token_list(),
            "vocab": not_a_vocab,
            "alpha": "positive",
        },
    ),
    Call(
        NGramModel,
        lambda: {
            "train_tokens": list(CHARS),
            "order": 3,
            "vocab": VOCAB,
            "discount": 0.5,
        },
        {
            "train_tokens": token_list(),
            "order": "positive_int",
            "vocab": not_a_vocab,
            "discount": bad_discount,
        },
    ),
    Call(
        MODEL.log2_prob,
        lambda: {"context": list("ab"), "token": "c"},
        {"context": token_list(empty_ok=True), "token": bad_token},
        label="NGramModel.log2_prob",
    ),
    Call(
        MODEL.distribution,
        lambda: {"context": list("ab")},
        {"context": token_list(empty_ok=True)},
        label="NGramModel.distribution",
    ),
    Call(
        MODEL.bits,
        lambda: {"tokens": list("abc"), "history": list("ab")},
        {
            "tokens": token_list(),
            "history": token_list(empty_ok=True, none_ok=True),
        },
        label="NGramModel.bits",
    ),
    Call(
        best_order,
        lambda: {
            "train_tokens": list(CHARS) * 3,
            "vocab": VOCAB,
            "orders": (1, 2),
            "dev_fraction": 0.2,
            "discount": None,
        },
        {
            "train_tokens": token_list(),
            "vocab": not_a_vocab,
            "orders": bad_orders,
            "dev_fraction": "open_fraction",
            "discount": bad_discount,
        },
        names={"orders": "orders"},
    ),
    Call(
        compressor_bits_per_char,
        lambda: {"train_text": "abcab", "valid_text": "cab", "method": "zlib"},
        {"train_text": bad_text, "valid_text": bad_text, "method": bad_method},
    ),
    Call(
        compressor_table,
        lambda: {"train_text": "abcab", "valid_text": "cab"},
        {"train_text": bad_text, "valid_text": bad_text},
    ),
]


@pytest.mark.parametrize("call", [pytest.param(c, id=c.id) for c in CALLS])
def test_valid_calls_work(call):
    check_valid(call)


@pytest.mark.parametrize("call, arg, label", cases(CALLS))
def test_bad_input_is_refused_naming_the_argument(call, arg, label):
    check_case(call, arg, label)


def test_dev_fraction_of_one_is_refused():
    with pytest.raises(ValueError, match="dev_fraction"):
        best_order(list(CHARS), VOCAB, dev_fraction=1.0)


def test_every_public_function_class_and_method_has_a_call():
    assert set(public_api(baselines)) - {call.id for call in CALLS} == set()
