"""Check functions that the lesson notebooks' test cells call.

One module per lesson topic (``backprop``, ``activations``, ``init``, ``batchnorm``, ``clip``,
``residual``, ``diagnose``, ``precision``); the shared building blocks live in :mod:`gradlib.checks.core`,
and the generic checks (dtype, keys in any order, inputs unmodified, defaults) and the description of how
a wrong output relates to the answer in :mod:`gradlib.checks.diagnosis`.
"""

from gradlib.checks.core import CheckFailure, as_array, assert_close, assert_unchanged, call, rel_error

__all__ = ["CheckFailure", "as_array", "assert_close", "assert_unchanged", "call", "rel_error"]
