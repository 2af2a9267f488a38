"""gradlib.clip against torch.nn.utils.clip_grad_norm_ / clip_grad_value_."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradlib.clip import clip_by_global_norm, clip_by_norm, clip_by_value, global_norm


def _grads(rng, scale=10.0):
    return [rng.normal(0, scale, s) for s in [(3, 4), (4,), (2, 2, 3)]]


def _torch_params(grads):
    params = []
    for g in grads:
        p = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        p.grad = torch.from_numpy(g.copy())
        params.append(p)
    return params


@pytest.mark.parametrize("max_norm", [0.5, 5.0, 1e4])
def test_global_norm_matches_clip_grad_norm(max_norm):
    """Do clipped arrays and the returned norm match clip_grad_norm_ (1e-6 included)?"""
    grads = _grads(np.random.default_rng(int(max_norm)))
    params = _torch_params(grads)
    total_t = torch.nn.utils.clip_grad_norm_(params, max_norm)
    clipped, total = clip_by_global_norm(grads, max_norm)
    assert total == pytest.approx(float(total_t), rel=1e-12)
    for c, p in zip(clipped, params, strict=True):
        np.testing.assert_allclose(c, p.grad.numpy(), rtol=1e-12)


def test_global_norm_returns_norm_before_clipping():
    """Is the returned norm the one before clipping (5 for [3, 4] clipped to 1)?"""
    clipped, total = clip_by_global_norm([np.array([3.0]), np.array([4.0])], 1.0)
    assert total == pytest.approx(5.0)
    assert global_norm(clipped) == pytest.approx(1.0, rel=1e-6)
    assert global_norm(clipped) < 1.0  # the 1e-6 in the denominator


def test_global_norm_leaves_small_gradients_untouched():
    """Are gradients whose global norm is below max_norm returned with the same values?"""
    grads = [np.array([0.1, -0.2]), np.array([[0.3]])]
    clipped, total = clip_by_global_norm(grads, 1.0)
    assert total == pytest.approx(np.sqrt(0.14))
    for c, g in zip(clipped, grads, strict=True):
        np.testing.assert_array_equal(c, g)
        assert c is not g


@pytest.mark.parametrize("clip_value", [0.0, 0.5, 3.0])
def test_value_matches_clip_grad_value(clip_value):
    """Does clip_by_value match clip_grad_value_ component by component?"""
    grads = _grads(np.random.default_rng(5), scale=2.0)
    params = _torch_params(grads)
    torch.nn.utils.clip_grad_value_(params, clip_value)
    for c, p in zip(clip_by_value(grads, clip_value), params, strict=True):
        np.testing.assert_array_equal(c, p.grad.numpy())


def test_reference_example_value_vs_norm():
    """Does [0.9, 100] with c = 1 give [0.9, 1] by value and about [0.00899, 0.99996] by norm?"""
    g = [np.array([0.9, 100.0])]
    np.testing.assert_allclose(clip_by_value(g, 1.0)[0], [0.9, 1.0])
    by_norm = clip_by_norm(g, 1.0)[0]
    np.testing.assert_allclose(by_norm, np.array([0.9, 100.0]) / np.hypot(0.9, 100.0), rtol=1e-15)
    np.testing.assert_allclose(by_norm, [0.00899, 0.99996], atol=1e-5)


def test_clip_by_norm_is_per_array():
    """Does clip_by_norm rescale each array to its own norm, leaving small arrays alone?"""
    big, small = np.array([30.0, 40.0]), np.array([0.3, 0.4])
    out = clip_by_norm({"big": big, "small": small}, 1.0)
    np.testing.assert_allclose(out["big"], [0.6, 0.8])
    np.testing.assert_array_equal(out["small"], small)
    # global clipping would have scaled the small one too
    glob, _ = clip_by_global_norm({"big": big, "small": small}, 1.0)
    assert np.linalg.norm(glob["small"]) < 0.5 * np.linalg.norm(small)


@pytest.mark.parametrize(
    "fn",
    [
        lambda g: clip_by_value(g, 1.0),
        lambda g: clip_by_norm(g, 1.0),
        lambda g: clip_by_global_norm(g, 1.0)[0],
    ],
    ids=["value", "norm", "global_norm"],
)
@pytest.mark.parametrize("container", [list, tuple, dict])
def test_container_type_kept_and_inputs_unchanged(fn, container):
    """Does each clip return the container type it got, with new arrays, never touching inputs?"""
    arrays = _grads(np.random.default_rng(7))
    grads = {f"p{i}": a for i, a in enumerate(arrays)} if container is dict else container(arrays)
    before = [a.copy() for a in arrays]
    out = fn(grads)
    assert type(out) is container
    if container is dict:
        assert list(out) == list(grads)
        out = list(out.values())
    for o, a, b in zip(out, arrays, before, strict=True):
        np.testing.assert_array_equal(a, b)
        assert o.shape == a.shape and not np.shares_memory(o, a)


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (lambda: clip_by_global_norm([np.ones(2)], 0.0), "0.0"),
        (lambda: clip_by_global_norm([np.ones(2)], -2.0), "-2.0"),
        (lambda: clip_by_norm([np.ones(2)], -1.5), "-1.5"),
        (lambda: clip_by_value([np.ones(2)], -0.25), "-0.25"),
        (lambda: clip_by_norm([np.ones(2)], float("nan")), "nan"),
    ],
)
def test_bad_bounds_raise_naming_value(call, text):
    """Do non-positive max_norm and negative clip_value raise ValueError naming the value?"""
    with pytest.raises(ValueError) as info:
        call()
    assert text in str(info.value)


def test_bad_container_raises_type_error():
    """Does a bare array (not a list or dict) raise TypeError naming its type?"""
    with pytest.raises(TypeError, match="ndarray"):
        clip_by_value(np.ones(3), 1.0)
    with pytest.raises(TypeError, match="'1' \\(str\\)"):
        clip_by_norm([np.ones(3)], "1")
    with pytest.raises(TypeError, match=r"grads\['b'\].*<U1"):
        clip_by_global_norm({"a": np.ones(2), "b": np.array(["x"])}, 1.0)


def test_float32_stays_float32_and_integers_become_float64():
    """Do the clipped arrays keep a float32 dtype and turn integer gradients into float64?"""
    grads = [np.array([3.0, 4.0], dtype=np.float32), np.array([1, 2])]
    for out in (clip_by_value(grads, 1.0), clip_by_norm(grads, 1.0), clip_by_global_norm(grads, 1.0)[0]):
        assert [a.dtype for a in out] == [np.float32, np.float64]
