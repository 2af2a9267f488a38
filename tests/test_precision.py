"""gradlib.precision: float formats against np.finfo/torch.finfo, loss scaling, GradScaler's update."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradlib import precision as pr

TORCH_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}


@pytest.mark.parametrize("name", list(pr.FORMATS))
def test_format_facts_match_torch_finfo(name):
    """Do max, smallest normal/subnormal and eps computed from the bit counts equal torch.finfo's?"""
    f, t = pr.float_format(name), torch.finfo(TORCH_DTYPES[name])
    assert (f.max, f.smallest_normal, f.smallest_subnormal, f.eps) == (
        t.max,
        t.tiny,
        t.smallest_normal * t.eps,
        t.eps,
    )
    assert f.exponent_bits + f.mantissa_bits + 1 == t.bits


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_format_facts_match_numpy_finfo(name):
    """Do the same facts equal np.finfo's (smallest_subnormal included)?"""
    f, n = pr.float_format(name), np.finfo(name)
    assert (f.max, f.smallest_normal, f.smallest_subnormal, f.eps) == (
        float(n.max),
        float(n.tiny),
        float(n.smallest_subnormal),
        float(n.eps),
    )


def test_reference_numbers():
    """Is float16's max 65504 and its smallest subnormal 2^-24 ~ 6e-8; bfloat16's max float32-sized?"""
    f16, bf16 = pr.float_format("float16"), pr.float_format("bfloat16")
    assert f16.max == 65504.0 and f16.smallest_subnormal == 2.0**-24
    assert 3.3e38 < bf16.max < 3.4e38


def test_cast_and_underflow_match_torch():
    """Does the float16 cast (to 0, to inf, rounding) equal torch's, warning-free?"""
    x = np.array([1e-9, 2.9e-8, 3.1e-8, 6e-8, 1e-4, 1.0, 7e4, -1e5])
    with np.errstate(all="raise"):
        got = pr.cast(x)
    expected = torch.tensor(x).to(torch.float16).double().numpy()
    assert np.array_equal(got.astype(np.float64), expected)
    assert pr.underflow_fraction(x) == pytest.approx(2 / 8)


def _fp16_linear(x16, W16):
    """Backward of out = x @ W in float16: dout -> [dW]."""
    return lambda dout16: [x16.T @ dout16]


def test_loss_scaling_rescues_underflowing_gradients():
    """Do tiny gradients that float16 flushes to 0 survive with S = 2^16, matching float64?"""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 8))
    dout = rng.normal(scale=1e-7, size=(16, 4))
    exact = x.T @ dout
    backward = _fp16_linear(pr.cast(x), pr.cast(rng.normal(size=(8, 4))))
    (plain,), _ = pr.loss_scaled_gradients(backward, dout, 1.0)
    (scaled,), found_inf = pr.loss_scaled_gradients(backward, dout, 2.0**16)
    assert scaled.dtype == np.float32 and not found_inf
    assert np.max(np.abs(plain - exact)) / np.max(np.abs(exact)) > 0.1
    assert np.max(np.abs(scaled - exact)) / np.max(np.abs(exact)) < 5e-3


def test_too_large_scale_reports_inf():
    """Does a scale that overflows float16 set found_inf, like GradScaler?"""
    backward = _fp16_linear(pr.cast(np.ones((4, 2))), None)
    _, found_inf = pr.loss_scaled_gradients(backward, np.full((4, 3), 1.0), 2.0**16)
    assert found_inf


def test_unscale_matches_torch_gradscaler_unscale():
    """Does unscale equal GradScaler's float32 division and inf detection?"""
    g = [np.array([1.0, 2.0, np.inf], dtype=np.float16), np.array([[4.0]], dtype=np.float16)]
    got, found = pr.unscale(g, 1024.0)
    inv = torch.tensor(1 / 1024.0, dtype=torch.float32)
    for a, b in zip(got, g, strict=True):
        assert np.array_equal(a, (torch.from_numpy(b).float() * inv).numpy())
    assert found


def test_update_scale_matches_torch_amp_update_scale():
    """Over a random inf/no-inf sequence, do scale and tracker follow torch._amp_update_scale_?"""
    rng = np.random.default_rng(0)
    scale_t, tracker_t = torch.tensor([65536.0]), torch.tensor([0], dtype=torch.int32)
    scale, tracker = 65536.0, 0
    for step in range(200):
        inf = bool(rng.random() < 0.1)
        torch._amp_update_scale_(scale_t, tracker_t, torch.tensor([float(inf)]), 2.0, 0.5, 7)
        scale, tracker = pr.update_scale(scale, tracker, inf, growth_interval=7)
        assert (scale, tracker) == (float(scale_t), int(tracker_t)), step


@pytest.mark.parametrize(
    ("call", "exc", "text"),
    [
        (lambda: pr.float_format("float8"), ValueError, "'float8'"),
        (lambda: pr.unscale([np.ones(2)], 0.0), ValueError, "0.0"),
        (lambda: pr.unscale([np.ones(2)], "big"), TypeError, "'big'"),
        (lambda: pr.underflow_fraction(np.zeros(3)), ValueError, "(3,)"),
        (lambda: pr.update_scale(1.0, 0, False, growth_factor=0.5), ValueError, "0.5"),
        (lambda: pr.update_scale(1.0, 0, False, backoff_factor=2.0), ValueError, "2.0"),
        (lambda: pr.update_scale(1.0, 0, False, growth_interval=0), ValueError, "0"),
        (lambda: pr.update_scale(1.0, 0, False, growth_interval=2.5), TypeError, "2.5 (float)"),
        (lambda: pr.update_scale(1.0, 0, False, growth_factor="2"), TypeError, "'2' (str)"),
    ],
)
def test_bad_input_names_the_value(call, exc, text):
    """Does bad input raise the right exception naming the bad value?"""
    with pytest.raises(exc) as info:
        call()
    assert text in str(info.value)
