"""The contract of the real-text part: tokens, vocabulary, stream batches, the model, its
regularisers, truncated-BPTT training, checkpoints, sampling and the command line."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from lstm_tutorial import decoding, lm, regularize, text
from lstm_tutorial.store import CorruptFile
from lstm_tutorial.text import StreamBatches, Vocab
from lstm_tutorial.training import TrainingDiverged

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ tokenizers


def test_word_tokens_keep_hyphens_apostrophes_numbers_and_punctuation():
    got = text.word_tokens("It's a well-known fact: Python 3.11 costs 1,000 $.")
    assert got == [
        "It's", "a", "well-known", "fact", ":", "Python", "3.11", "costs",
        "1,000", "$", ".",
    ]  # fmt: skip
    assert text.word_tokens("don\u2019t (x) -- end.") == [
        "don\u2019t", "(", "x", ")", "-", "-", "end", ".",
    ]  # fmt: skip
    assert text.word_tokens("a_b") == ["a", "_", "b"]


def test_char_tokens_round_trip_exactly():
    s = "  Tab\there,\nnew line 3.11 \u00e9"
    assert text.join_tokens(text.char_tokens(s), "char") == s
    assert text.tokenize(s, "char") == list(s)
    with pytest.raises(ValueError, match="level"):
        text.tokenize(s, "byte")
    with pytest.raises(TypeError, match="text"):
        text.word_tokens(["a"])


# ------------------------------------------------------------------ vocabulary


def test_vocab_build_orders_specials_then_frequency_and_maps_rare_to_unk():
    tokens = list("abracadabra")  # a 5, b 2, r 2, c 1, d 1
    v = Vocab.build(tokens, min_count=2, pad="<pad>", eos="<eos>")
    assert v.tokens == ("<pad>", "<unk>", "<eos>", "a", "b", "r")
    ids = v.encode(list("abcz"))
    assert ids.dtype == torch.int64
    assert v.decode(ids) == ["a", "b", "<unk>", "<unk>"]
    assert Vocab.build(tokens, max_size=3).tokens == ("<unk>", "a", "b")


def test_vocab_without_unk_refuses_unknown_tokens_and_rare_cut():
    v = Vocab.build(list("abc"), unk=None)
    assert v.decode(v.encode(list("cab"))) == list("cab")
    with pytest.raises(ValueError, match="no unk token"):
        v.encode(list("abz"))
    with pytest.raises(ValueError, match="no unk token"):
        Vocab.build(list("aab"), min_count=2, unk=None)


def test_vocab_refuses_bad_input():
    with pytest.raises(TypeError, match="tokens"):
        Vocab.build("abc")
    with pytest.raises(ValueError, match="tokens"):
        Vocab.build([])
    with pytest.raises(ValueError, match="once"):
        Vocab(("a", "a"))
    with pytest.raises(ValueError, match="unk"):
        Vocab(("a",), unk="<unk>")
    v = Vocab.build(list("ab"))
    with pytest.raises(ValueError, match="ids"):
        v.decode([7])
    with pytest.raises(TypeError, match="ids"):
        v.decode(torch.tensor([0.0]))


# ------------------------------------------------------------------ batches


def test_stream_batches_are_contiguous_batch_first_windows():
    ids = torch.arange(103)
    batches = StreamBatches(ids, batch_size=4, seq_len=10)
    windows = list(batches)
    assert len(windows) == len(batches) == 3  # S = 25: 10, 10, 5
    x, y = windows[0]
    assert x.shape == (4, 10) and x.dtype == torch.int64
    assert torch.equal(y, x + 1)  # targets: the next token
    assert torch.equal(windows[1][0][:, 0], x[:, -1] + 1)  # rows continue
    assert windows[2][0].shape == (4, 5)
    assert batches.unread == 102 - 100 and batches.targets == 100
    trained = StreamBatches(ids, 4, 10, drop_last=True)
    assert len(trained) == 2 and trained.targets == 80


def test_stream_batches_refuse_numpy_short_text_and_bad_sizes():
    with pytest.raises(TypeError, match="NumPy"):
        StreamBatches(np.arange(100), 4, 10)
    with pytest.raises(ValueError, match="too few for one batch"):
        StreamBatches(torch.arange(40), 4, 10)
    with pytest.raises(ValueError, match="batch_size"):
        StreamBatches(torch.arange(100), 0, 10)
    with pytest.raises(TypeError, match="ids"):
        StreamBatches(torch.arange(100.0), 4, 10)


def test_a_model_explains_numpy_and_transposed_windows():
    torch.manual_seed(0)
    model = lm.TextLM(20, num_layers=1, embed_size=4, hidden_size=8)
    x = torch.randint(0, 20, (3, 7))
    with pytest.raises(TypeError, match="NumPy.*transpose"):
        model(x.numpy())
    out = model(x)
    with pytest.raises(ValueError, match="transposed"):
        model(x.T.contiguous(), out.state)
    with pytest.raises(ValueError, match=r"ids in \[0, 20\)"):
        model(x + 20)
    with pytest.raises(ValueError, match="one entry per layer"):
        model(x, out.state * 2)


# ------------------------------------------------------------------ the model


def _model(cell="lstm", **kw):
    torch.manual_seed(0)
    return lm.TextLM(
        30, cell=cell, num_layers=2, embed_size=6, hidden_size=10, **kw
    )


@pytest.mark.parametrize("cell", sorted(lm.CELLS))
def test_carrying_the_state_equals_reading_the_whole_stream(cell):
    model = _model(cell).eval()
    x = torch.randint(0, 30, (3, 12))
    whole = model(x).logits
    first = model(x[:, :5])
    second = model(x[:, 5:], lm.detach_state(first.state))
    pieces = torch.cat([first.logits, second.logits], dim=1)
    torch.testing.assert_close(pieces, whole)
    assert all(
        t.grad_fn is None
        for s in lm.detach_state(first.state)
        for t in (s if isinstance(s, tuple) else (s,))
    )


def test_scratch_cell_matches_torch_nn_lstm_with_the_same_weights():
    ours, theirs = _model("scratch").eval(), _model("lstm").eval()
    theirs.load_state_dict(ours.state_dict())
    x = torch.randint(0, 30, (2, 9))
    torch.testing.assert_close(ours(x).logits, theirs(x).logits)


def test_tied_weights_share_one_tensor_and_shape_the_last_layer():
    model = _model(tie_weights=True)
    assert model.decoder.weight is model.embedding.weight
    assert model.decoder.weight.data_ptr() == model.embedding.weight.data_ptr()
    assert model.layers[-1].layer.hidden_size == 6  # the embedding size
    untied = _model()
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(model) < count(untied)
    out = model(torch.randint(0, 30, (2, 4)))
    out.logits.sum().backward()
    assert model.embedding.weight.grad is not None


@pytest.mark.parametrize("name", lm.DROPOUTS)
def test_each_dropout_acts_in_training_mode_only(name):
    x = torch.randint(0, 30, (4, 8))
    plain = _model().eval()
    dropped = _model(**{name: 0.5})
    dropped.load_state_dict(plain.state_dict())
    reference = plain(x).logits
    dropped.eval()
    torch.testing.assert_close(dropped(x).logits, reference)  # eval: identity
    dropped.train()
    torch.manual_seed(1)
    assert not torch.allclose(dropped(x).logits, reference)
    plain.train()
    torch.testing.assert_close(plain(x).logits, reference)  # no dropout: same


def test_locked_dropout_keeps_one_mask_for_every_step():
    drop = regularize.LockedDropout(0.5).train()
    torch.manual_seed(0)
    y = drop(torch.ones(3, 20, 8))
    zero = y == 0
    assert torch.equal(zero, zero[:, :1].expand_as(zero))  # same at every t
    assert set(y.unique().tolist()) <= {0.0, 2.0}
    assert 0 < zero[:, 0].float().mean() < 1


def test_embedding_dropout_drops_whole_words():
    emb = nn.Embedding(10, 5)
    ids = torch.tensor([[1, 2, 1, 3, 1, 2]])
    torch.manual_seed(3)
    out = regularize.embedding_dropout(emb, ids, 0.5, training=True)
    zero = (out == 0).all(-1)[0]  # positions whose word was dropped
    assert zero.any() and not zero.all()
    for word in (1, 2, 3):  # a word is dropped everywhere or nowhere
        assert len(set(zero[ids[0] == word].tolist())) == 1
    same = regularize.embedding_dropout(emb, ids, 0.5, training=False)
    torch.testing.assert_close(same, emb(ids))


def test_weight_drop_masks_recurrent_weights_and_trains_them():
    torch.manual_seed(0)
    layer = nn.LSTM(4, 6, batch_first=True)
    wrapped = regularize.WeightDrop(layer, 0.5)
    x = torch.randn(2, 5, 4)
    wrapped.eval()
    torch.testing.assert_close(wrapped(x)[0], layer(x)[0])
    wrapped.train()
    out, _ = wrapped(x)
    assert not torch.allclose(out, layer(x)[0])
    out.sum().backward()
    grad = layer.weight_hh_l0.grad
    assert grad is not None and (grad == 0).any() and (grad != 0).any()
    with pytest.raises(ValueError, match="hidden-to-hidden"):
        regularize.WeightDrop(nn.Linear(3, 3), 0.5)


def test_activation_penalty_is_ar_plus_tar():
    raw = torch.tensor([[[1.0], [3.0], [6.0]]])
    dropped = torch.tensor([[[2.0], [0.0], [2.0]]])
    got = regularize.activation_penalty(raw, dropped, ar=2.0, tar=0.5)
    ar = 2.0 * (4 + 0 + 4) / 3
    tar = 0.5 * (4 + 9) / 2
    assert float(got) == pytest.approx(ar + tar)
    assert float(regularize.activation_penalty(raw, dropped, 0, 0)) == 0
    with pytest.raises(ValueError, match="ar"):
        regularize.activation_penalty(raw, dropped, -1, 0)


# ------------------------------------------------------------------ training


def test_one_cycle_equals_torch_one_cycle_lr():
    for total in (3, 10, 57):
        p = nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=1.0)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=1.0, total_steps=total, cycle_momentum=False
        )
        factor = lm.one_cycle(total)
        for step in range(1, total + 1):
            assert factor(step) == pytest.approx(opt.param_groups[0]["lr"])
            opt.step()
            if step < total:
                sched.step()
    with pytest.raises(ValueError, match="total_steps"):
        lm.one_cycle(0)


TINY = "the cat sat on the mat. the dog sat on the log. " * 40


def _tiny_config(**kw):
    base = dict(
        layers=1, embed_size=8, hidden_size=32, seq_len=16, batch_size=4,
        epochs=3, lr=1e-2, schedule="constant", dropout=0.0,
        weight_decay=0.0, valid_fraction=0.2,
    )  # fmt: skip
    return lm.LMConfig(**(base | kw))


def test_fit_lm_learns_a_repetitive_text_and_records_metrics():
    model, vocab, history = lm.train_text_lm(TINY, _tiny_config(), log=None)
    assert history.epochs == 3
    assert history.val_loss[-1] < history.val_loss[0] < math.log(vocab.size)
    assert history.metrics["accuracy"][-1] > 0.5
    assert history.metrics["perplexity"][-1] == pytest.approx(
        math.exp(history.val_loss[-1])
    )
    again = lm.train_text_lm(TINY, _tiny_config(), log=None)[2]
    assert again.val_loss == history.val_loss  # seeded: the same numbers


def test_fit_lm_follows_a_per_step_schedule():
    s = lm.setup(TINY, _tiny_config(epochs=2))
    seen = []

    def schedule(step):
        seen.append(step)
        return 1.0

    lm.fit_lm(s.model, s.train, epochs=2, lr=1e-3, schedule=schedule, log=None)
    assert seen == list(range(1, 2 * len(s.train) + 1))


def test_fit_lm_stops_with_a_message_when_it_diverges():
    s = lm.setup(TINY, _tiny_config())
    with pytest.raises(TrainingDiverged, match="diverged"):
        lm.fit_lm(s.model, s.train, epochs=3, lr=1e4, clip_norm=None, log=None)


def test_evaluate_counts_every_validation_token():
    s = lm.setup(TINY, _tiny_config())
    result = lm.evaluate(s.model, s.valid)
    assert result["tokens"] == s.valid.targets
    assert result["bits_per_token"] == pytest.approx(
        result["loss"] / math.log(2)
    )


def test_a_text_too_short_for_one_batch_is_refused():
    with pytest.raises(ValueError, match="too few for one batch"):
        lm.setup("short text " * 5, _tiny_config())


def test_config_refuses_bad_values():
    with pytest.raises(ValueError, match="cell"):
        lm.LMConfig(cell="transformer")
    with pytest.raises(ValueError, match="dropout"):
        lm.LMConfig(dropout=1.0)
    with pytest.raises(TypeError, match="layers"):
        lm.LMConfig(layers=2.5)
    with pytest.raises(ValueError, match="unknown config keys"):
        lm.LMConfig.from_dict({"lr": 1e-3, "momentum": 0.9})
    assert lm.LMConfig(dropout=0.2, weight_drop=0.5).dropouts() == {
        "embed_dropout": 0.2, "input_dropout": 0.2, "hidden_dropout": 0.2,
        "output_dropout": 0.2, "weight_drop": 0.5,
    }  # fmt: skip


# ------------------------------------------------------------------ checkpoints, sampling


def test_checkpoints_round_trip_and_detect_damage(tmp_path):
    config = _tiny_config(epochs=1)
    model, vocab, history = lm.train_text_lm(TINY, config, log=None)
    path = lm.save_lm(tmp_path / "m.pt", model, vocab, config, history)
    back, vocab2, config2, history2 = lm.load_lm(path)
    assert vocab2 == vocab and config2 == config
    assert history2.val_loss == history.val_loss
    x = torch.randint(0, vocab.size, (1, 6))
    torch.testing.assert_close(back(x).logits, model.eval()(x).logits)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptFile):
        lm.load_lm(path)


def test_the_default_checkpoint_folder_is_outside_the_repository(monkeypatch):
    monkeypatch.delenv(lm.LM_DIR_ENV, raising=False)
    folder = lm.default_lm_dir().resolve()
    assert REPO not in folder.parents and folder != REPO
    monkeypatch.setenv(lm.LM_DIR_ENV, "/tmp/somewhere")
    assert lm.default_lm_dir() == Path("/tmp/somewhere")


def test_the_step_adapter_gives_the_models_own_next_token_distribution():
    model = _model().eval()
    ids = np.array([3, 1, 4, 1, 5])
    logp, _ = decoding.prime(lm.StepAdapter(model), ids, batch_size=2)
    with torch.no_grad():
        whole = torch.log_softmax(
            model(torch.tensor(ids)[None]).logits[0, -1], -1
        )
    np.testing.assert_allclose(logp[0], whole.double().numpy(), atol=1e-5)
    np.testing.assert_allclose(logp[1], logp[0])


def test_sample_text_starts_with_the_prompt_and_repeats_with_its_seed():
    config = _tiny_config(level="word", epochs=1)
    model, vocab, _ = lm.train_text_lm(TINY, config, log=None)
    a = lm.sample_text(model, vocab, "the cat", level="word", length=12, seed=4)
    b = lm.sample_text(model, vocab, "the cat", level="word", length=12, seed=4)
    assert a == b and a.startswith("the cat ") and len(a.split()) == 14
    greedy = lm.sample_text(
        model, vocab, "the", level="word", length=5, top_k=1
    )
    assert len(greedy.split()) == 6


# ------------------------------------------------------------------ the command line


def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "lstm_tutorial.lm", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=300,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin",
             "HOME": str(cwd)},
    )  # fmt: skip


def test_the_command_line_trains_samples_and_reports(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TINY, encoding="utf-8")
    ckpt, metrics = tmp_path / "m.pt", tmp_path / "m.json"
    run = _cli(
        "train", corpus, "--level", "word", "--layers", "1",
        "--hidden-size", "16", "--embed-size", "8", "--seq-len", "8",
        "--batch-size", "4", "--epochs", "2", "--lr", "1e-2",
        "--dropout", "0.1", "--weight-drop", "0.2", "--tie-weights",
        "--ar", "1", "--tar", "1", "--schedule", "one-cycle",
        "--checkpoint", ckpt, "--metrics-out", metrics, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "epoch 2/2" in run.stdout and f"saved {ckpt}" in run.stdout
    got = json.loads(metrics.read_text())
    for key in ("valid_loss", "perplexity", "bits_per_token", "accuracy"):
        assert math.isfinite(got[key]), key
    assert got["perplexity"] == pytest.approx(math.exp(got["valid_loss"]))
    assert lm.load_lm(ckpt)[2].tie_weights
    sample = _cli("sample", ckpt, "--prompt", "the dog", "--length", "7",
                  "--seed", "1", cwd=tmp_path)  # fmt: skip
    assert sample.returncode == 0, sample.stderr
    assert sample.stdout.startswith("the dog ")
    assert len(sample.stdout.split()) == 9


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no file"),
        (b"", "at least two characters"),
        (b"\xff\xfe\x00bad", "UTF-8"),
        (b"too short", "too few"),
    ],
)
def test_the_command_line_explains_a_bad_text_file(tmp_path, content, message):
    path = tmp_path / "t.txt"
    if content is not None:
        path.write_bytes(content)
    run = _cli("train", path, "--epochs", "1", cwd=tmp_path)
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.stderr


def test_the_command_line_help_lists_every_option():
    run = subprocess.run(
        [sys.executable, "-m", "lstm_tutorial.lm", "train", "--help"],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    for option in (
        "--level", "--layers", "--hidden-size", "--embed-size", "--cell",
        "--seq-len", "--batch-size", "--epochs", "--lr", "--schedule",
        "--dropout", "--embed-dropout", "--weight-drop", "--tie-weights",
        "--ar", "--tar", "--weight-decay", "--seed", "--valid-fraction",
        "--checkpoint", "--metrics-out",
    ):  # fmt: skip
        assert option in run.stdout, option


def test_ctrl_c_saves_the_model_and_says_where(tmp_path, monkeypatch, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TINY, encoding="utf-8")
    ckpt = tmp_path / "stopped.pt"

    def interrupted(model, train, **options):
        options["history"].train_loss.append(1.0)  # one epoch finished
        raise KeyboardInterrupt

    monkeypatch.setattr(lm, "fit_lm", interrupted)
    code = lm.main([
        "train", str(corpus), "--layers", "1", "--hidden-size", "8",
        "--embed-size", "4", "--seq-len", "8", "--batch-size", "4",
        "--checkpoint", str(ckpt),
    ])  # fmt: skip
    assert code == 130
    err = capsys.readouterr().err
    assert "interrupted after 1 full epochs" in err and str(ckpt) in err
    model, vocab, config, history = lm.load_lm(ckpt)
    assert history.train_loss == [1.0] and config.hidden_size == 8


# ------------------------------------------- pre-tokenized corpora, files, evaluate

CORPUS = "the cat sat on the <unk>\nthe dog sat on the log\n" * 30


def test_the_whitespace_split_keeps_the_corpus_tokens_and_ends_lines():
    got = lm.corpus_tokens("mr. <unk> 's N\n\nit's\n", "word", "whitespace")
    assert got == ["mr.", "<unk>", "'s", "N", "<eos>", "<eos>", "it's", "<eos>"]
    assert lm.corpus_tokens("it's", "word") == text.tokenize("it's", "word")
    with pytest.raises(ValueError, match="level='word'"):
        lm.corpus_tokens("a b", "char", "whitespace")


def test_a_validation_file_and_the_corpus_unk_make_the_vocabulary():
    config = _tiny_config(level="word", valid_fraction=0.1)
    valid = "the cat sat on the mat\n"  # 'mat' unseen in training
    p = lm.prepare_files(CORPUS, config, valid_text=valid, split="whitespace")
    vocab = p.vocab
    assert vocab.unk == "<unk>" and vocab.eos == "<eos>"
    assert vocab.decode(p.valid_ids) == [
        "the", "cat", "sat", "on", "the", "<unk>", "<eos>",
    ]  # fmt: skip
    train = lm.corpus_tokens(CORPUS, "word", "whitespace")
    assert vocab.decode(p.train_ids) == train  # every training token, in order
    assert (
        "<unk>" not in vocab.tokens[1:]
    )  # the corpus's <unk> is the unk itself


def test_setup_files_without_a_file_or_split_is_setup():
    config = _tiny_config(level="word")
    a, b = lm.setup_files(TINY, config), lm.setup(TINY, config)
    assert a.vocab == b.vocab
    for x, y in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.equal(x, y)
    pairs = zip(a.train, b.train, strict=True)
    assert all(torch.equal(x[0], y[0]) for x, y in pairs)


def test_evaluate_text_is_evaluate_on_the_model_streams():
    config = _tiny_config(level="word", epochs=1)
    s = lm.setup_files(CORPUS, config, split="whitespace")
    got = lm.evaluate_text(
        s.model, s.vocab, CORPUS[:400], level="word", split="whitespace",
        batch_size=2, seq_len=8,
    )  # fmt: skip
    ids = s.vocab.encode(lm.corpus_tokens(CORPUS[:400], "word", "whitespace"))
    want = lm.evaluate(s.model, StreamBatches(ids, 2, 8))
    assert got == want
    with pytest.raises(ValueError, match="vocabulary does not know"):
        char = lm.setup(TINY, _tiny_config(level="char"))
        lm.evaluate_text(char.model, char.vocab, "zebra!", level="char")


def test_the_command_line_trains_on_a_corpus_with_its_own_split_and_files(
    tmp_path,
):
    train, valid, test = (
        tmp_path / f"{n}.txt" for n in ("train", "valid", "test")
    )
    train.write_text(CORPUS, encoding="utf-8")
    valid.write_text(CORPUS[:200], encoding="utf-8")
    test.write_text(CORPUS[200:500], encoding="utf-8")
    ckpt, out = tmp_path / "m.pt", tmp_path / "test.json"
    run = _cli(
        "train", train, "--level", "word", "--split", "whitespace",
        "--valid-file", valid, "--layers", "1", "--hidden-size", "16",
        "--embed-size", "8", "--seq-len", "8", "--batch-size", "4",
        "--epochs", "1", "--checkpoint", ckpt, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert lm.checkpoint_split(ckpt) == "whitespace"
    run = _cli("evaluate", ckpt, test, "--metrics-out", out, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    got = json.loads(out.read_text())
    model, vocab, config, _ = lm.load_lm(ckpt)
    assert vocab.eos == "<eos>"
    want = lm.evaluate_text(
        model, vocab, test.read_text(), level="word", split="whitespace"
    )
    assert got == pytest.approx(want)
    assert got["tokens"] == len(lm.corpus_tokens(test.read_text(), "word",
                                                 "whitespace")) - 1  # fmt: skip
    sample = _cli("sample", ckpt, "--prompt", "the dog", "--length", "40",
                  "--seed", "0", cwd=tmp_path)  # fmt: skip
    assert sample.returncode == 0, sample.stderr
    assert "<eos>" not in sample.stdout and "\n" in sample.stdout.strip()


def test_the_command_line_defaults_are_lmconfig_but_the_measured_rate():
    args = lm._parser().parse_args(["train", "t.txt"])
    config = lm._config_from_args(args)
    assert config == lm.CLI_DEFAULTS
    assert config.lr == 1e-2 and lm.LMConfig().lr != config.lr
    assert dataclasses.replace(config, lr=lm.LMConfig().lr) == lm.LMConfig()
