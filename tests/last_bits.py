"""What another processor can do to a training run: the last bits of its arithmetic, changed on purpose.

Training runs on one thread (``gradlib.torch_train``), so a run gives the same numbers on every run of one
machine. It does not give them on every machine: MKL and PyTorch's own kernels choose their code by
instruction set (AVX2, AVX-512, an AMD or an Intel core), add the terms of a float32 product in another
order, and round the last bit differently. A network trained on the edge of diverging amplifies those bits:
the lesson 08 run of ReLU + He at lr 0.5 with clipping at 1 ended at a validation accuracy of 0.28 on the
CI machine and 0.18 on another machine of the same kind, from the same seed.

So a figure that rests on such a run is checked on nudged copies of it as well: :func:`nudge` multiplies
every parameter of a freshly built model by 1 +/- 2^-23 (one float32 unit in the last place near 1, the
sign drawn from a seed), the size of the difference two processors make. A figure that holds for a run
and for its nudged copies can be expected to hold on a student's laptop and on the grading machine; one
that does not is not a figure to print or to grade by.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import torch

#: nudge k uses this seed plus k; nudge 0 is the run as it is.
_SEED = 10_000


def nudge(model: torch.nn.Module, k: int) -> torch.nn.Module:
    """Multiply each parameter of ``model`` in place by 1 +/- 2^-23, signs from ``k``; ``k == 0`` keeps it.

    Raises:
        ValueError: on a negative ``k``.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k!r}")
    if k == 0:
        return model
    gen = torch.Generator().manual_seed(_SEED + k)
    with torch.no_grad():
        for p in model.parameters():
            sign = torch.randint(0, 2, p.shape, generator=gen).to(p.dtype) * 2 - 1
            p.mul_(1 + sign * 2.0**-23)
    return model


@contextmanager
def nudged_builds(monkeypatch: pytest.MonkeyPatch, k: int) -> Iterator[None]:
    """Within the block, every ``gradlib.torch_mlp.build_mlp`` call returns a model nudged by ``k``.

    The graders import ``build_mlp`` from its module when they run, so a check called inside the block
    trains the nudged network, by the check's own code.
    """
    from gradlib import torch_mlp

    original: Callable = torch_mlp.build_mlp

    def build(*args, **kwargs):
        return nudge(original(*args, **kwargs), k)

    with monkeypatch.context() as m:
        m.setattr(torch_mlp, "build_mlp", build)
        yield
