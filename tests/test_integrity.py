"""Tamper detection and the clean-room process boundary, without kernels.

The end-to-end tampering cases are in test_engine.py, graded once per session.
"""

from __future__ import annotations

import copy
import dataclasses
import errno
import io
import os
import pickle
import subprocess
import sys

import nbformat
import numpy as np
import pytest

from autograder import authoring, integrity, sandbox
from autograder.cleanroom import BOOT, PACKAGE_DIR, client, harness, wire
from autograder.results import CellResult


def _release():
    return authoring.notebook(
        [
            authoring.code("import numpy as np"),
            authoring.answer("double", "def double(x):\n    raise NotImplementedError()"),
            authoring.test("double_values", 2, "# double: values\nassert double(1) == 2\nprint('ok')"),
            authoring.code("print('experiment')"),
        ]
    )


def test_static_flags_honest_is_silent():
    """Does an honest submission (answer filled in) raise no flag at all?"""
    release = _release()
    mine = copy.deepcopy(release)
    mine.cells[1].source = "def double(x):\n    return 2 * x"
    assert integrity.static_flags(mine, release) == []


@pytest.mark.parametrize(
    ("change", "flag"),
    [
        (lambda nb: setattr(nb.cells[2], "source", "print('ok')"), "test cell double_values was edited"),
        (lambda nb: nb.cells.pop(2), "test cell double_values was deleted"),
        (
            lambda nb: nb.cells[2].metadata.nbgrader.update(points=50),
            "points of double_values changed from 2 to 50",
        ),
        (
            lambda nb: nb.cells[2].metadata.nbgrader.update(locked=False),
            "nbgrader metadata of double_values changed",
        ),
        (lambda nb: nb.cells.append(copy.deepcopy(nb.cells[1])), "duplicated cell ids: double"),
    ],
)
def test_static_flags(change, flag):
    """Is each edit of the locked structure named in a flag?"""
    release = _release()
    mine = copy.deepcopy(release)
    change(mine)
    assert any(flag in f for f in integrity.static_flags(mine, release)), integrity.static_flags(
        mine, release
    )


def test_student_cells_skip_tests_and_untouched_instructor_cells():
    """Does the student process run setup, answers and changed cells, but never a test cell?"""
    release = _release()
    mine = copy.deepcopy(release)
    mine.cells.append(nbformat.v4.new_code_cell("import numpy; numpy.sum = len"))
    chosen = [src for _, src in harness.student_cells(mine, release)]
    assert chosen == ["import numpy as np", mine.cells[1].source, "import numpy; numpy.sum = len"]


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_data_only_unpickler_refuses_code():
    """Does the harness refuse a pickle from the student process that would run code?"""
    with pytest.raises(pickle.UnpicklingError, match="builtins.print"):
        client.DataOnly(io.BytesIO(pickle.dumps(_Evil()))).load()


def test_data_only_unpickler_accepts_data():
    """Are arrays, numbers, strings and containers passed through unchanged?"""
    value = {"a": np.arange(3.0), "b": [1, 2.5, "x", (None, True)], "c": np.float64(2.0)}
    back = client.DataOnly(io.BytesIO(pickle.dumps(value, protocol=4))).load()
    assert np.array_equal(back["a"], value["a"]) and back["b"] == value["b"] and back["c"] == 2.0


@pytest.fixture
def zygote(tmp_path_factory):
    """A running clean-room zygote, for StudentProcess to fork from."""
    if not sandbox.bwrap_available()[0]:
        pytest.skip("the zygote needs bubblewrap")
    home = tmp_path_factory.mktemp("zygote")
    policy, log = sandbox.SandboxPolicy(memory=2 * 1024**3), home.parent / f"{home.name}.log"
    z = sandbox.Zygote(home, policy, log, kind="student", env=client.clean_room_env(home))
    assert z.alive, (home.parent / f"{home.name}.log").read_text()
    yield z
    z.close()


@pytest.fixture(params=["fresh process", "forked from the zygote"])
def student(request, tmp_path):
    """A live sandboxed student process with an honest, an in-place and a patching function."""
    cells = [
        (0, "import numpy as np"),
        (1, "def double(x):\n    return 2 * np.asarray(x)"),
        (2, "def scale_(x, rng):\n    x *= 3\n    return rng.normal()"),
        (3, "def grad(f, x):\n    return f(x) * 2"),
        (4, "def boom(x):\n    raise ValueError(f'bad x={x}')"),
        (5, "import numpy\nnumpy.testing.assert_allclose = lambda *a, **k: None"),
        (6, "def forward(x, W):\n    return x @ W, (x, W)"),
        (7, "def pass_on(init, rng):\n    return init((2,), rng=rng) + rng.normal()"),
        (8, "def fwd(x, act):\n    return act.fn(x), (x, act, np.negative)"),
        (9, "def bwd(dout, cache):\n    x, act, neg = cache\n    return neg(dout * act.grad(x))"),
    ]
    zygote = request.getfixturevalue("zygote") if request.param == "forked from the zygote" else None
    policy = sandbox.SandboxPolicy(memory=1024**3, cpu_seconds=60)
    proc = client.StudentProcess(wire.Job(["numpy", "numpy.testing"], cells), tmp_path, policy, 30, zygote)
    yield proc
    proc.stop()


def test_student_process_round_trip(student):
    """Do calls cross the boundary with values, in-place changes, rng state, callbacks and errors?"""
    ready = student.start()
    assert {"double", "scale_", "grad", "boom"} <= set(ready.names)
    assert "replaced numpy.testing.assert_allclose" in ready.tamper
    assert np.array_equal(client.Proxy(student, "double")(np.arange(3)), [0, 2, 4])
    x, rng, twin = np.ones(2), np.random.default_rng(5), np.random.default_rng(5)
    drawn = client.Proxy(student, "scale_")(x, rng)
    assert np.array_equal(x, [3.0, 3.0]) and drawn == twin.normal() and rng.normal() == twin.normal()
    assert client.Proxy(student, "grad")(lambda v: v + 1, 4) == 10
    with pytest.raises(ValueError, match="bad x=7"):
        client.Proxy(student, "boom")(7)
    out, cache = client.Proxy(student, "forward")(np.ones((2, 3)), np.eye(3))
    assert np.array_equal(out, np.ones((2, 3))) and np.array_equal(cache[1], np.eye(3))
    rng, twin = np.random.default_rng(9), np.random.default_rng(9)
    got = client.Proxy(student, "pass_on")(lambda shape, *, rng: 1.0 if rng is mine else -1.0, mine := rng)
    assert got == 1.0 + twin.normal() and rng.normal() == twin.normal()  # same object, same stream
    from gradlib import activations

    x = np.array([-1.0, 2.0])
    out, cache = client.Proxy(student, "fwd")(x, activations.get("relu"))
    assert np.array_equal(out, [0.0, 2.0])
    assert np.array_equal(client.Proxy(student, "bwd")(np.ones(2), cache), [0.0, -1.0])
    # the harness's numpy is untouched by the student's patch
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(1.0, 2.0)


def test_setup_with_a_magic_line_is_python():
    """Does a setup cell with a %magic line (skipped under grading) run in the harness?"""
    source = "x = 1\nif x == 2:\n    %matplotlib inline"
    namespace: dict = {}
    exec(compile(harness.python_source(source), "<setup>", "exec"), namespace)
    assert namespace["x"] == 1


def test_student_process_crash_is_a_failure_not_a_hang(tmp_path):
    """Does a student function that kills its process fail that call with a clear message?"""
    cells = [(0, "import os"), (1, "def die():\n    os._exit(3)")]
    proc = client.StudentProcess(wire.Job([], cells), tmp_path, sandbox.SandboxPolicy(), 30)
    try:
        proc.start()
        with pytest.raises(client.StudentGone, match="ended the clean-room process"):
            client.Proxy(proc, "die")()
    finally:
        proc.stop()


#: The clean-room modules that run inside the sandbox, where no other part of autograder is mounted.
SANDBOXED = ("__init__", "__main__", "wire", "procfs", "tamper", "server", "zygote")


@pytest.mark.parametrize("name", SANDBOXED)
def test_sandboxed_modules_import_nothing_from_autograder(name):
    """Does each module the sandbox runs import only the standard library, numpy and its siblings?"""
    import ast

    tree = ast.parse((PACKAGE_DIR / f"{name}.py").read_text())
    absolute = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    absolute |= {
        n.module.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module and not n.level
    }
    allowed = set(sys.stdlib_module_names) | {"numpy", "IPython", "ipykernel", "cleanroom"}
    assert absolute <= allowed, absolute - allowed


def test_messages_round_trip_by_name():
    """Does every named message survive the wire with its fields, and is a stray tuple refused?"""
    import socket

    a, b = socket.socketpair()
    sent = [
        wire.Job(["numpy"], [(0, "x = 1")]),
        wire.Ready({"f": ("callable", None)}, ["installed an input transformer"]),
        wire.Call("f", [np.arange(3)], {"k": 1}, {"all": "warn"}),
        wire.Callback(7, [1], {}),
        wire.Return(2.5, ([None], {})),
        wire.Raise("ValueError", "bad", None),
        wire.Stop(),
    ]
    for message in sent:
        wire.send(a, message)
        got = wire.recv(b, loads=lambda data: client.DataOnly(io.BytesIO(data)).load())
        assert type(got) is type(message) and repr(got) == repr(message)
    data = pickle.dumps(("nonsense", 1), protocol=4)
    a.sendall(len(data).to_bytes(8, "big") + data)
    with pytest.raises(wire.ProtocolError, match="nonsense"):
        wire.recv(b)


def _probe(tmp_path, cells, name, zygote):
    proc = client.StudentProcess(wire.Job([], cells), tmp_path, sandbox.SandboxPolicy(), 30, zygote)
    try:
        report = proc.start()
        return report, client.Proxy(proc, name)()
    finally:
        proc.stop()


LEAVE_TRACES = """
import ctypes
subprocess.Popen(["sleep", "300"], start_new_session=True)
for folder in (os.environ["HOME"], "/dev/shm"):
    with open(os.path.join(folder, "answers.txt"), "w") as fh:
        fh.write("42")
ctypes.CDLL(None).shmget(0, 4096, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600: a System V segment
"""

LOOK_AROUND = """
def seen():
    mine = (1, os.getpid(), os.getppid())
    others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in mine]
    with open("/proc/sysvipc/shm") as fh:
        segments = len(fh.read().splitlines()) - 1
    return sorted(os.listdir(os.environ["HOME"]) + os.listdir("/dev/shm")), others, segments
"""

PEEK = """
def peek():
    try:
        with open(f"/proc/{os.getppid()}/mem", "rb"):
            return "read"
    except OSError as exc:
        return type(exc).__name__
"""


def test_zygote_leaves_nothing_of_one_student_to_the_next(zygote, tmp_path):
    """After one student's process, are its background processes, files and IPC segments gone?"""
    cells = [(0, "import os, subprocess"), (1, LEAVE_TRACES), (2, LOOK_AROUND)]
    ready, (files, _, segments) = _probe(tmp_path, cells, "seen", zygote)
    assert "started 1 background process(es)" in ready.tamper
    assert files.count("answers.txt") == 2 and segments == 1
    next_student = [(0, "import os"), (1, LOOK_AROUND)]
    ready, (files, others, segments) = _probe(tmp_path, next_student, "seen", zygote)
    assert "answers.txt" not in files and others == [] and segments == 0 and ready.tamper == []


def test_zygote_memory_is_out_of_a_student_process_reach(zygote, tmp_path):
    """Can a student process read its parent zygote's memory (ptrace rights)? It must not."""
    _, outcome = _probe(tmp_path, [(0, "import os"), (1, PEEK)], "peek", zygote)
    assert outcome == "PermissionError"


#: (x86-64 numbers; the test is skipped elsewhere) add a key to the user keyring, or find one added before.
KEYRINGS = """
import ctypes
_libc = ctypes.CDLL(None, use_errno=True)
_USER_KEYRING = -4  # KEY_SPEC_USER_KEYRING: shared by every process of one uid in a user namespace

def plant(secret):
    key = _libc.syscall(248, b"user", b"answers", secret, len(secret), _USER_KEYRING)  # add_key
    return key, ctypes.get_errno()

def find():
    key = _libc.syscall(250, 10, _USER_KEYRING, b"user", b"answers", 0)  # keyctl(KEYCTL_SEARCH, ...)
    if key < 0:
        return None, ctypes.get_errno()
    buf = ctypes.create_string_buffer(256)
    size = _libc.syscall(250, 11, key, buf, 256)  # keyctl(KEYCTL_READ, ...)
    return buf.raw[: max(size, 0)], ctypes.get_errno()
"""

TRACE_PID1 = """
def trace_pid1():
    libc = ctypes.CDLL(None, use_errno=True)
    attached = libc.ptrace(16, 1, None, None) == 0  # PTRACE_ATTACH
    err = ctypes.get_errno()
    if attached:
        libc.ptrace(17, 1, None, None)  # PTRACE_DETACH
    return attached, err
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the probe uses x86-64 system call numbers")
def test_a_key_one_student_adds_is_not_there_for_the_next(zygote, tmp_path):
    """Can a student's process put a secret in a kernel keyring for the next student's process to read?"""
    secret = b"hidden-answer-42"
    planted = _call(tmp_path, [(0, "import ctypes"), (1, KEYRINGS)], "plant", zygote, secret)
    found = _call(tmp_path, [(0, "import ctypes"), (1, KEYRINGS)], "find", zygote)
    assert found[0] != secret, (planted, found)
    assert planted[0] < 0 and planted[1] == errno.EPERM, planted  # the keyring calls are refused outright


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the probe uses x86-64 system call numbers")
def test_student_process_cannot_trace_the_sandboxs_pid1(zygote, tmp_path):
    """Is PTRACE_ATTACH to bubblewrap's pid 1 refused to a student's process (the kernel's is the same)?"""
    attached, err = _call(tmp_path, [(0, "import ctypes"), (1, TRACE_PID1)], "trace_pid1", zygote)
    assert not attached and err == errno.EPERM, (attached, err)


def _call(tmp_path, cells, name, zygote, *args):
    proc = client.StudentProcess(wire.Job([], cells), tmp_path, sandbox.SandboxPolicy(), 30, zygote)
    try:
        proc.start()
        return client.Proxy(proc, name)(*args)
    finally:
        proc.stop()


def test_zygote_refuses_to_run_outside_a_pid_namespace():
    """Started without bubblewrap, does the zygote exit instead of killing the host's processes?"""
    done = subprocess.run(
        [sys.executable, str(BOOT), "--zygote", "0"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "own pid namespace" in done.stderr


def test_a_student_process_that_kills_the_zygote_only_costs_a_fresh_start(zygote, tmp_path):
    """If student code kills the zygote, is its call failed, and does the next process start fresh?"""
    cells = [
        (0, "import os, signal, time"),
        (1, "def strike():\n    os.kill(os.getppid(), signal.SIGKILL)\n    time.sleep(10)"),
    ]
    proc = client.StudentProcess(wire.Job([], cells), tmp_path, sandbox.SandboxPolicy(), 30, zygote)
    try:
        proc.start()
        with pytest.raises(client.StudentGone):
            client.Proxy(proc, "strike")()
    finally:
        proc.stop()
    assert not zygote.alive
    _, files = _probe(tmp_path, [(0, "import os"), (1, LOOK_AROUND)], "seen", zygote)
    assert isinstance(files, tuple)


def _kernel_cells(message: str):
    from autograder.results import CellResult

    return [CellResult("nb", "f_values", 0.0, 2.0, False, None, message)]


def test_feedback_never_carries_the_kernels_text():
    """When the clean room passes a test the kernel failed, is the kernel's message (a leak path) dropped?"""
    from autograder.cleanroom.harness import Verdict

    leaked = "ValueError: assert_close(f(x), 3.0)  # hidden test line"
    cells, _ = integrity.apply_verdict(_kernel_cells(leaked), Verdict({"f_values": (True, "")}))
    assert cells[0].points == 2.0 and cells[0].message == ""
    cells, _ = integrity.apply_verdict(_kernel_cells(leaked), Verdict({"f_values": (False, "")}))
    assert cells[0].points == 0.0 and "hidden test line" not in cells[0].message


def test_feedback_message_keeps_whole_lines():
    """Is a long check message kept whole, line by line, rather than cut at a character count?"""
    from autograder.cleanroom.harness import Verdict

    advice = "CheckFailure: std is 1.16x the Xavier value. " + "Did you use fan_in only? " * 20
    message = advice.rstrip() + "\nLikely cause: the variance 2/fan_in (He) instead of 2/(fan_in + fan_out)"
    cells, _ = integrity.apply_verdict(_kernel_cells(""), Verdict({"f_values": (False, message)}))
    assert cells[0].message == message
    many = "\n".join(f"line {i}" for i in range(20))
    cells, _ = integrity.apply_verdict(_kernel_cells(""), Verdict({"f_values": (False, many)}))
    assert (
        cells[0].message.splitlines()[: integrity.MESSAGE_LINES]
        == many.splitlines()[: integrity.MESSAGE_LINES]
    )
    assert cells[0].message.endswith(f"({20 - integrity.MESSAGE_LINES} more lines)")


def _executed(outputs: list) -> nbformat.NotebookNode:
    """A notebook whose one test cell, f_values, ran with ``outputs`` (as nbgrader's Execute leaves it)."""
    cell = nbformat.v4.new_code_cell("assert f(1) == 3")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "f_values", "points": 2, "solution": False}
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), cell])


RAISED = {"output_type": "error", "ename": "ValueError", "evalue": "In[-1] was ...", "traceback": []}
WARNED = {"output_type": "stream", "name": "stderr", "text": "RuntimeWarning: overflow in exp\n"}
#: The test's own assertion failed in the kernel only: e.g. the function changed the test's arrays in place,
#: which the clean room's copies never show. A wrong answer, not grading-dependent code.
JUDGED = {**RAISED, "ename": "CheckFailure", "evalue": "f(1) is 4.0, expected 3.0"}
#: A check reporting that the student's code raised (gradlib's checks wrap the call): flagged as such.
CODE_RAISED = {**RAISED, "ename": "CheckFailure", "evalue": "f(1) raised ValueError: In[-1] was ..."}


@pytest.mark.parametrize(
    ("outputs", "flagged"),
    [([RAISED], True), ([CODE_RAISED], True), ([WARNED], False), ([], False), ([JUDGED], False)],
    ids=["raised", "a check saw the code raise", "warned", "passed", "a check judged a value"],
)
def test_a_test_only_the_kernel_run_fails_is_flagged_when_it_raised(outputs, flagged):
    """Is a test where the code raised only in the kernel flagged, and a warning or a judged value not?"""
    from autograder.cleanroom.harness import Verdict

    raised = integrity.raised_in_kernel(_executed(outputs))
    assert raised == ({"f_values": "ValueError"} if flagged else {})
    kernel = [dataclasses.replace(c, passed_in_kernel=not outputs) for c in _kernel_cells("In[-1] was ...")]
    cells, flags = integrity.apply_verdict(kernel, Verdict({"f_values": (True, "")}), raised)
    assert (cells[0].points, cells[0].passed_clean, cells[0].message) == (2.0, True, "")
    expected = ["f_values raised ValueError in the kernel but passes the clean-room re-check"]
    assert [f.split(" (")[0] for f in flags] == (expected if flagged else [])


def test_both_disagreements_are_flagged_and_agreement_is_not():
    """Are kernel-pass/clean-fail and kernel-raise/clean-pass flagged, and agreeing runs left alone?"""
    from autograder.cleanroom.harness import Verdict

    cells = [
        CellResult("nb", "a", 1.0, 1.0, True),  # passes in the kernel, fails in the clean room
        CellResult("nb", "b", 0.0, 1.0, False, None, "ValueError: x"),  # raised in the kernel only
        CellResult("nb", "c", 1.0, 1.0, True),  # both pass
        CellResult("nb", "d", 0.0, 1.0, False, None, "CheckFailure: y"),  # both fail
    ]
    verdict = Verdict({"a": (False, "CheckFailure: a"), "b": (True, ""), "c": (True, ""), "d": (False, "no")})
    final, flags = integrity.apply_verdict(cells, verdict, {"b": "ValueError", "d": "CheckFailure"})
    assert [c.points for c in final] == [0.0, 1.0, 1.0, 0.0]
    assert [f.split()[0] for f in flags] == ["a", "b"]
