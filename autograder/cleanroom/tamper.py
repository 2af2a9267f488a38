"""Tamper probes of the student process: what the student's cells changed that could sway the tests.

Runs inside the sandbox (:mod:`.server`). Before the student's cells run, :class:`Probes` records the
attributes and function code of the modules the tests use (plus numpy, gradlib and builtins), IPython's
hooks and ``sys``'s, and the thread count; :meth:`Probes.changes` lists what differs afterwards, and the
processes the cells left running. Matplotlib's own set-up (pyplot choosing its backend, hooking into
IPython) is settled before the snapshot, so it never counts as the student's doing.
"""

from __future__ import annotations

import sys
import threading
import types

from . import procfs

__all__ = ["Probes", "ShellState", "changes", "settle_matplotlib", "snapshot"]


def _functions(module):
    for name, value in list(vars(module).items()):
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            yield name, value


def snapshot(prefixes):
    """Module attributes and function code of every loaded module under ``prefixes``, plus builtins."""
    snap = {}
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "builtins" or name.split(".")[0] in prefixes):
            continue
        code = {n: (f.__code__, f.__defaults__, f.__kwdefaults__) for n, f in _functions(module)}
        snap[name] = (module, dict(vars(module)), code)
    return snap


def _ignored(attr):
    return attr in ("__builtins__", "_", "__", "___") or attr.startswith(("_i", "_o"))


def changes(snap):
    """What differs from ``snap``: replaced modules, replaced or deleted attributes, rewritten functions."""
    found = []
    for name, (module, attrs, code) in sorted(snap.items()):
        if sys.modules.get(name) is not module:
            found.append(f"replaced module {name}")
            continue
        now = vars(module)
        for attr, value in attrs.items():
            if _ignored(attr):
                continue
            if attr not in now:
                found.append(f"deleted {name}.{attr}")
            elif now[attr] is not value and not _same_value(now[attr], value):
                found.append(f"replaced {name}.{attr}")
        for fname, before in code.items():
            f = now.get(fname)
            if isinstance(f, types.FunctionType) and (f.__code__, f.__defaults__, f.__kwdefaults__) != before:
                found.append(f"rewrote {name}.{fname}")
    return found


def _same_value(a, b):
    try:
        return type(a) is type(b) and isinstance(a, (int, float, str, bool, bytes)) and a == b
    except Exception:  # noqa: BLE001
        return False


class ShellState:
    """The parts of IPython and ``sys`` that code can hook to change how later cells run or fail."""

    def __init__(self, shell):
        self.shell = shell
        self.before = self._state()

    def _state(self):
        s = self.shell
        return {
            "input transformer": len(s.input_transformers_cleanup) + len(s.input_transformers_post),
            "AST transformer": len(s.ast_transformers),
            "event callback": sum(len(v) for v in s.events.callbacks.values()),
            "custom exception handler": len(s.custom_exceptions),
            "showtraceback hook": "showtraceback" in vars(s) or "_showtraceback" in vars(s),
            "class-level showtraceback hook": type(s).showtraceback.__code__,
            "sys.excepthook": sys.excepthook,
            "import hook": (len(sys.meta_path), len(sys.path_hooks)),
            "trace function": (sys.gettrace(), sys.getprofile()),
        }

    def changes(self):
        """Names of the hooks that differ from when the shell was created."""
        now = self._state()
        return [
            f"installed an {k}" if k[0] in "aeiou" else f"installed a {k}"
            for k in now
            if now[k] != self.before[k]
        ]


def settle_matplotlib():
    """Let pyplot load its backend now if it is imported: its own set-up is no change by the student."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.switch_backend(pyplot.get_backend())


class Probes:
    """Everything the probes record before the student's cells run (``prefixes``: the tests' packages)."""

    def __init__(self, shell, prefixes):
        self.hooks = ShellState(shell)
        self.modules = snapshot(set(prefixes) | {"numpy", "gradlib"})
        self.threads = threading.active_count()

    def changes(self, pid):
        """The tampering seen since: changed modules and hooks, new threads, processes left under ``pid``.

        ``pid`` (the student process) is a child subreaper, so a detached or double-forked process stays
        among its descendants; only processes it started are looked at, with or without a pid namespace.
        """
        found = changes(self.modules) + self.hooks.changes()
        if threading.active_count() > self.threads:
            found.append(f"started {threading.active_count() - self.threads} thread(s)")
        if others := procfs.descendants(pid):
            found.append(f"started {len(others)} background process(es)")
        return found
