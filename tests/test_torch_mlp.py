"""gradlib.torch_mlp and gradlib.torch_train: the capstone's model builder and training loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gradlib.digits import load_split
from gradlib.stats import std_tolerance
from gradlib.torch_mlp import build_mlp
from gradlib.torch_train import train_classifier


def test_layers_shapes_and_modules():
    """Does build_mlp give depth Linear+norm+activation blocks of the asked width and a 10-logit output?"""
    model = build_mlp(3, 16, activation="tanh", init="xavier", norm="layernorm")
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "LayerNorm", "Tanh"] * 3 + ["Linear"]
    assert [tuple(m.weight.shape) for m in model if isinstance(m, torch.nn.Linear)] == [
        (16, 64),
        (16, 16),
        (16, 16),
        (10, 16),
    ]


@pytest.mark.parametrize(
    ("init", "std"),
    [("he", math.sqrt(2 / 256)), ("lecun", math.sqrt(1 / 256)), ("small", 0.01), ("large", 1.0)],
)
def test_weight_std_matches_the_named_init(init, std):
    """Is each hidden weight's std the init's, within a tolerance derived from the sample size?"""
    model = build_mlp(2, 256, activation="relu", init=init, d_in=256)
    w = model[2].weight.detach().double().numpy().ravel()
    assert abs(w.std() - std) <= std_tolerance(std, w.size, comparisons=4)


def test_same_seed_same_weights_global_rng_untouched():
    """Are the weights a function of the seed, without touching torch's global RNG?"""
    state = torch.random.get_rng_state()
    a, b = (
        build_mlp(2, 8, activation="relu", init="he", seed=4),
        build_mlp(2, 8, activation="relu", init="he", seed=4),
    )
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"activation": "swish", "init": "he"}, "activation 'swish' is not one of"),
        ({"activation": "relu", "init": "glorot"}, "init 'glorot' is not one of"),
        ({"activation": "relu", "init": "he", "norm": "groupnorm"}, "norm 'groupnorm' is not one of"),
    ],
)
def test_unknown_names_are_rejected_listing_the_options(kwargs, match):
    """Is an unknown activation, init or norm an error listing the options?"""
    with pytest.raises(ValueError, match=match):
        build_mlp(2, 8, **kwargs)


def test_training_learns_and_divergence_is_reported():
    """Does a healthy net beat guessing by far, and a diverging one stop with diverged=True?"""
    data = load_split()
    good = train_classifier(build_mlp(3, 32, activation="tanh", init="xavier"), data, lr=0.05, steps=100)
    assert good.val_accuracy > 0.8 and not good.diverged and len(good.losses) == 100
    with np.errstate(all="ignore"):
        bad = train_classifier(build_mlp(10, 64, activation="relu", init="he"), data, lr=0.5)
    assert bad.diverged and not np.isfinite(bad.losses[-1]) and bad.val_accuracy == 0.0


def test_training_gives_the_same_numbers_on_any_number_of_threads():
    """Does a run on the edge of diverging give the same losses bit for bit whatever torch's thread count?

    ReLU + He at lr 0.5 with clipping at 1 amplifies the last bits a threaded matrix product changes: left
    to torch's thread count, its final loss differs between one and two threads. The caller's thread count
    is restored afterwards.
    """
    data = load_split()
    before = torch.get_num_threads()
    runs = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            model = build_mlp(10, 64, activation="relu", init="he", seed=0)
            runs.append(train_classifier(model, data, lr=0.5, clip=1.0, steps=150))
            assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(before)
    assert np.array_equal(runs[0].losses, runs[1].losses), (runs[0].losses[-3:], runs[1].losses[-3:])
    assert runs[0].val_accuracy == runs[1].val_accuracy


@pytest.mark.parametrize(("key", "value"), [("lr", 0), ("steps", 0), ("batch_size", 1.5), ("clip", -1.0)])
def test_bad_training_arguments_are_rejected(key, value):
    """Is a non-positive lr, steps or clip, or a float batch size, an error naming it?"""
    kwargs = {"lr": 0.1, key: value}
    with pytest.raises(ValueError, match=key):
        train_classifier(build_mlp(1, 4, activation="relu", init="he"), load_split(), **kwargs)


def _train_with_torch_optim(model, data, *, lr, steps, seed, clip):
    """The same loop as train_classifier (one thread, as it trains), with torch.optim.SGD making the step."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _torch_optim_loop(model, data, lr=lr, steps=steps, seed=seed, clip=clip)
    finally:
        torch.set_num_threads(threads)


def _torch_optim_loop(model, data, *, lr, steps, seed, clip):
    from torch.nn import functional as F  # noqa: N812

    x = torch.as_tensor(data.x_train, dtype=torch.float32)
    y = torch.as_tensor(data.y_train, dtype=torch.int64)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    for _ in range(steps):
        idx = torch.randint(0, len(y), (128,), generator=gen)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        losses.append(float(loss.detach()))
        opt.zero_grad()
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
    return np.array(losses)


@pytest.mark.parametrize(
    ("kwargs", "lr", "clip"),
    [
        (dict(activation="tanh", init="xavier"), 0.05, None),
        (dict(activation="relu", init="he", norm="batchnorm"), 0.5, None),
        (dict(activation="relu", init="he"), 0.5, 1.0),
    ],
)
def test_the_sgd_step_is_torch_optim_sgd_to_the_bit(kwargs, lr, clip):
    """Do train_classifier's losses and final weights equal torch.optim.SGD(momentum=0.9)'s exactly?"""
    data = load_split()
    ours, theirs = build_mlp(4, 24, seed=1, **kwargs), build_mlp(4, 24, seed=1, **kwargs)
    result = train_classifier(ours, data, lr=lr, steps=25, seed=2, clip=clip)
    expected = _train_with_torch_optim(theirs, data, lr=lr, steps=25, seed=2, clip=clip)
    np.testing.assert_array_equal(result.losses, expected)
    for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
