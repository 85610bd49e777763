"""The shared training loop and checkpoint cache: determinism, divergence, round trips."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from lstm_tutorial import seed_everything
from lstm_tutorial.training import (
    History,
    TrainingDiverged,
    checkpoint_path,
    config_key,
    default_checkpoint_dir,
    evaluate_loss,
    fit,
    load_checkpoint,
    save_checkpoint,
    to_device,
    train_or_load,
)


def regression_data(
    n_batches: int = 8, seed: int = 0
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """y = x @ w + noise, in batches of 16: a problem any small network learns."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(3, 1, generator=g)
    batches = []
    for _ in range(n_batches):
        x = torch.randn(16, 3, generator=g)
        batches.append((x, x @ w + 0.01 * torch.randn(16, 1, generator=g)))
    return batches


def mse(model: nn.Module, batch) -> torch.Tensor:
    x, y = batch
    return nn.functional.mse_loss(model(x), y)


def small_model(seed: int = 0) -> nn.Module:
    seed_everything(seed)
    return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))


def quiet_fit(model, data, **kwargs) -> History:
    kwargs = {
        "loss": mse,
        "epochs": 5,
        "lr": 1e-2,
        "device": "cpu",
        "log": None,
    } | kwargs
    return fit(model, data, **kwargs)


def test_fit_lowers_the_loss_and_records_every_epoch():
    data = regression_data()
    history = quiet_fit(small_model(), data, val=data[:2], epochs=6, lr=0.05)
    assert history.epochs == 6
    assert len(history.val_loss) == len(history.seconds) == 6
    assert history.train_loss[-1] < 0.3 * history.train_loss[0]
    assert history.val_loss[-1] < history.val_loss[0]


def test_two_seeded_runs_give_identical_losses_and_weights():
    data = regression_data()
    runs = []
    for _ in range(2):
        model = small_model(seed=3)

        # shuffled batch order draws from torch's generator, which fit seeds
        def shuffled(epoch):
            return [data[k] for k in torch.randperm(len(data)).tolist()]

        history = quiet_fit(model, shuffled, val=data[:2], seed=11)
        runs.append((history, model.state_dict()))
    (h1, s1), (h2, s2) = runs
    assert h1.train_loss == h2.train_loss and h1.val_loss == h2.val_loss
    assert all(torch.equal(s1[k], s2[k]) for k in s1)


def test_a_huge_learning_rate_stops_training_with_advice():
    data = regression_data()
    with pytest.raises(
        TrainingDiverged, match=r"diverged at epoch 1.*smaller learning rate"
    ):
        quiet_fit(
            small_model(),
            data,
            lr=1e4,
            epochs=20,
            optimizer=None,
            clip_norm=None,
        )


def test_a_nan_loss_stops_training_at_once():
    calls = []

    def nan_after_two(model, batch):
        calls.append(1)
        value = mse(model, batch)
        return value * math.nan if len(calls) > 2 else value

    with pytest.raises(
        TrainingDiverged, match="step 3: the loss is not a number"
    ):
        quiet_fit(small_model(), regression_data(), loss=nan_after_two)
    assert isinstance(TrainingDiverged("x"), RuntimeError)


def test_an_exploding_loss_is_caught_before_it_becomes_infinite():
    def explode(model, batch):
        explode.step += 1
        return mse(model, batch) * (1.0 if explode.step < 4 else 1e3)

    explode.step = 0
    with pytest.raises(TrainingDiverged, match="above"):
        quiet_fit(
            small_model(), regression_data(), loss=explode, optimizer=None
        )


def test_gradients_are_clipped_to_the_given_norm():
    model = small_model()
    batch = (torch.randn(16, 3) * 100, torch.randn(16, 1) * 100)  # a steep loss
    before = [p.detach().clone() for p in model.parameters()]
    sgd = torch.optim.SGD(model.parameters(), lr=1.0)
    quiet_fit(
        model,
        [batch],
        epochs=1,
        optimizer=sgd,
        clip_norm=0.5,
        diverge_factor=None,
    )
    step = torch.cat(
        [
            (p.detach() - b).flatten()
            for p, b in zip(model.parameters(), before, strict=True)
        ]
    )
    # SGD with lr 1 moves the weights by exactly the clipped gradient
    assert torch.linalg.vector_norm(step).item() == pytest.approx(0.5, rel=1e-4)

    reference = small_model()
    loss = mse(reference, batch)
    loss.backward()
    norm = nn.utils.clip_grad_norm_(reference.parameters(), 0.5)
    assert norm > 0.5  # the clip was active


def test_batches_can_change_every_epoch_and_metrics_run_in_eval_mode():
    data = regression_data()
    seen_epochs, modes = [], []

    def curriculum(epoch):
        seen_epochs.append(epoch)
        return data[:epoch]

    def metric(model):
        modes.append(model.training)
        return 1.5

    lines = []
    history = quiet_fit(
        small_model(),
        curriculum,
        epochs=3,
        metrics={"acc": metric},
        log=lines.append,
    )
    assert seen_epochs == [1, 2, 3] and modes == [False] * 3
    assert history.metrics == {"acc": [1.5, 1.5, 1.5]}
    assert len(lines) == 3 and lines[0].startswith("epoch 1/3  train ")
    assert "acc 1.5" in lines[-1] and lines[-1].endswith(" s")


def test_log_every_prints_some_epochs_and_the_last():
    lines = []
    quiet_fit(
        small_model(),
        regression_data(2),
        epochs=5,
        log=lines.append,
        log_every=2,
    )
    assert [line.split()[1] for line in lines] == ["2/5", "4/5", "5/5"]


def test_a_schedule_scales_the_learning_rate_per_epoch():
    model = small_model()
    adam = torch.optim.Adam(model.parameters(), lr=0.1)
    lrs = []
    quiet_fit(
        model,
        lambda epoch: (
            lrs.append(adam.param_groups[0]["lr"]) or regression_data(1)
        ),
        epochs=3,
        optimizer=adam,
        schedule=lambda epoch: 0.5 ** (epoch - 1),
    )
    assert lrs == pytest.approx([0.1, 0.05, 0.025])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs"),
        ({"lr": 0.0}, "lr"),
        ({"clip_norm": -1.0}, "clip_norm"),
        ({"diverge_factor": 0.5}, "diverge_factor"),
        ({"log_every": 0}, "log_every"),
        ({"schedule": lambda epoch: 0.0}, "schedule"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        quiet_fit(small_model(), regression_data(1), **kwargs)


def test_training_without_batches_is_refused():
    with pytest.raises(ValueError, match="no batches"):
        quiet_fit(small_model(), [])
    with pytest.raises(ValueError, match="no batches"):
        evaluate_loss(small_model(), [], mse)


def test_to_device_moves_nested_batches():
    batch = {"x": torch.zeros(2), "pair": (torch.ones(1), [torch.ones(1), 3])}
    moved = to_device(batch, "cpu")
    assert moved["pair"][1][1] == 3 and isinstance(moved["pair"], tuple)
    assert moved["x"].device.type == "cpu"


def test_checkpoint_round_trip_with_weights_only(tmp_path):
    model = small_model(seed=1)
    history = quiet_fit(model, regression_data(), epochs=2)
    path = save_checkpoint(
        tmp_path / "m.pt",
        model,
        config={"hidden": 8, "lr": 0.01},
        history=history,
    )
    assert [p.name for p in tmp_path.iterdir()] == [
        "m.pt"
    ]  # no temporary file left behind

    raw = torch.load(
        path, weights_only=True
    )  # plain data only: the safe loader accepts it
    assert set(raw) == {"format", "state_dict", "config", "history"}

    fresh = small_model(seed=2)
    stored = load_checkpoint(path, fresh)
    assert all(
        torch.equal(fresh.state_dict()[k], v)
        for k, v in model.state_dict().items()
    )
    assert stored["config"] == {"hidden": 8, "lr": 0.01}
    assert stored["history"] == history


def test_loading_a_wrong_file_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="no integrity seal|not a checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    save_checkpoint(tmp_path / "m.pt", small_model())
    with pytest.raises(ValueError, match="does not fit"):
        load_checkpoint(tmp_path / "m.pt", nn.Linear(3, 1))
    with pytest.raises(ValueError, match="JSON"):
        save_checkpoint(tmp_path / "bad.pt", small_model(), config={"f": len})


def test_config_key_depends_on_content_not_order():
    assert config_key({"a": 1, "b": [2, 3]}) == config_key(
        {"b": [2, 3], "a": 1}
    )
    assert config_key({"a": 1}) != config_key({"a": 2})
    assert (
        checkpoint_path("lm", {"a": 1}, "/x").name
        == f"lm-{config_key({'a': 1})}.pt"
    )
    with pytest.raises(ValueError, match="name"):
        checkpoint_path("../up", {"a": 1}, "/x")


def test_default_checkpoint_dir_can_be_overridden(monkeypatch, tmp_path):
    monkeypatch.setenv("LSTM_TUTORIAL_CHECKPOINTS", str(tmp_path))
    assert default_checkpoint_dir() == tmp_path
    monkeypatch.delenv("LSTM_TUTORIAL_CHECKPOINTS")
    assert default_checkpoint_dir().parts[-2:] == (
        "part3_pytorch",
        "checkpoints",
    )


def test_train_or_load_trains_once_then_loads_the_same_model(tmp_path):
    calls = []
    config = {"seed": 4, "epochs": 3}

    def build():
        return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))

    def train(model, device):
        calls.append(device)
        return quiet_fit(
            model, regression_data(), epochs=config["epochs"], device=device
        )

    lines = []
    first, h1 = train_or_load(
        "reg",
        config,
        build,
        train,
        directory=tmp_path,
        device="cpu",
        log=lines.append,
    )
    second, h2 = train_or_load(
        "reg",
        config,
        build,
        train,
        directory=tmp_path,
        device="cpu",
        log=lines.append,
    )
    assert len(calls) == 1 and h1 == h2 and not second.training
    assert all(
        torch.equal(first.state_dict()[k], v)
        for k, v in second.state_dict().items()
    )
    assert lines == [
        f"loaded {tmp_path.name}/{checkpoint_path('reg', config).name}"
    ]

    # without the cache, training again gives the identical model
    third, h3 = train_or_load(
        "reg",
        config,
        build,
        train,
        directory=tmp_path / "new",
        device="cpu",
        log=None,
    )
    assert h3.train_loss == h1.train_loss
    assert all(
        torch.equal(first.state_dict()[k], v)
        for k, v in third.state_dict().items()
    )
