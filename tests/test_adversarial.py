"""Attacks on `autograder grade`, end to end, one test per class of attack; each must be contained.

Most classes share one graded batch (one worker, so jobs run in student-id order on the same zygotes):
honest students sit between the attackers, and an attacker's effect on anyone else is part of what is
checked. A class the grader does not contain yet is marked ``xfail(strict=True)`` with the gap it
documents, so the test turns red the day it is fixed.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from autograder_fixtures import (  # noqa: F401
    ASSIGNMENT,
    MAX_SCORE,
    WRONG_DOUBLE,
    student_notebook,
    toy_course,
    write_nbgrader_layout,
)

from autograder import sandbox, submissions

pytestmark = [pytest.mark.adversarial, pytest.mark.nbgrader, pytest.mark.sandbox]
needs_bwrap = pytest.mark.skipif(not sandbox.bwrap_available()[0], reason="bubblewrap cannot isolate here")

#: Values put into the grader's own environment; student code must never see them.
SECRET = f"ag-secret-{secrets.token_hex(8)}"
CREDENTIAL = f"ag-credential-{secrets.token_hex(8)}"
MEMORY = 2 * 1024**3

ENV_SPY = """
import ctypes, os
_found = []
for _path in ("/proc/1/environ", "/proc/2/environ", "/proc/self/environ"):
    try:
        _found.append(open(_path, "rb").read().decode(errors="replace"))
    except OSError as _exc:
        _found.append(f"{_path}: {_exc}")
_found.append(repr(dict(os.environ)))
_libc = ctypes.CDLL(None, use_errno=True)
if _libc.ptrace(16, 1, None, None) == 0:  # PTRACE_ATTACH to pid 1
    print("PTRACE pid1: attached")
    _libc.ptrace(17, 1, None, None)  # PTRACE_DETACH
else:
    print("PTRACE pid1: refused", ctypes.get_errno())
for _fd in sorted(os.listdir("/proc/self/fd"), key=int):
    try:
        print("FD", _fd, os.readlink(f"/proc/self/fd/{_fd}"))
    except OSError:
        pass
print("ENV", " | ".join(_found))
def double(x):
    raise ValueError("leak: " + " | ".join(_found)[-1500:])
"""

#: 1,024 processes started as fast as posix_spawn can (no page tables copied, so no memory pressure);
#: reports how many started and the errno that stopped it.
FORK_BOMB = """
import os
_kids, _errno = 0, 0
for _ in range(1024):
    try:
        os.posix_spawn("/bin/sleep", ["sleep", "3"], {})
    except OSError as _exc:
        _errno = _exc.errno
        break
    _kids += 1
print("FORKED", _kids, "errno", _errno)
"""

SHM_HOG = f"""
_written = 0
try:
    for _i in range({MEMORY // 2**20 + 512}):
        with open(f"/dev/shm/hog{{_i // 256}}", "ab") as _fh:  # 256 MiB files: under any file-size limit
            _fh.write(b"x" * 2**20)
        _written += 2**20
except OSError as _exc:
    print("SHM refused", type(_exc).__name__)
print("SHM wrote", _written)
"""

#: 2 GiB written to the scratch folder (HOME) in 64 MiB files: each under the file-size limit.
DISK_HOG = """
import os
for _i in range(32):
    with open(os.path.join(os.environ["HOME"], f"hog{_i}"), "wb") as _fh:
        _fh.write(b"x" * 2**26)
print("DISK wrote 2 GiB")
"""
SHOW_HOME = "import os\nprint('HOME', sorted(os.listdir(os.environ['HOME'])))\n"

#: A child whose main thread ends with SYS_exit (a zombie leader) while a second thread writes into every
#: notebook folder next to its own: a process the reset between students must still kill.
LURKER = """
import ctypes, os, threading, time
if os.fork() == 0:
    def _lurk():
        while True:
            for _root, _dirs, _files in os.walk(os.path.dirname(os.environ["HOME"])):
                if _root.endswith("/nb"):
                    try:
                        open(os.path.join(_root, "LURKER.txt"), "w").write("x")
                    except OSError:
                        pass
            time.sleep(0.05)
    threading.Thread(target=_lurk).start()
    ctypes.CDLL(None).syscall(60, 0)  # SYS_exit (x86-64): only this thread ends
"""
#: ``double`` raises only when a caller frame is a notebook cell (it is, in the kernel; in the clean room the
#: caller is the student process's server), with the test cell's source (In[-1]) and the caller's code.
HIDDEN_LEAK = """
import inspect, sys
def double(x):
    frame = sys._getframe(1)
    while frame is not None:
        if "In" in frame.f_globals and frame.f_globals["In"]:
            cell = frame.f_globals["In"][-1]
            raise ValueError("LEAK " + cell + " CALLER " + "".join(inspect.getframeinfo(frame, 40)[3] or []))
        frame = frame.f_back
    return 2.0 * np.asarray(x, dtype=float)
"""
#: A line of the toy course's hidden tests (see autograder_fixtures.TEST_DOUBLE).
HIDDEN_LINE = "np.array([-1.5, 7.0])"
LOOK_AROUND = "import os, time\ntime.sleep(1)\nprint('FILES', sorted(os.listdir('.')))\n"

FORMULAS = ("=1+2", "+SUM(1)", "-3+4", "@cmd")


def _added(source: str):
    def edit(nb):
        nb.cells.append(nbformat.v4.new_code_cell(source))

    return edit


def _deep_json(depth: int) -> bytes:
    return (
        b'{"cells": [], "metadata": {"x": '
        + b"[" * depth
        + b"]" * depth
        + b'}, "nbformat": 4, "nbformat_minor": 5}'
    )


def _many_cells(count: int) -> str:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": "x = 1"}
    cells = [dict(cell, id=f"c{i}") for i in range(count)]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _grade(subs: Path, out: Path, *extra: str, timeout: float = 480) -> subprocess.CompletedProcess:
    env = {**os.environ, "JPY_API_TOKEN": SECRET, "AG_TEST_PASSWORD": CREDENTIAL, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


def _outputs(out: Path, student: str) -> str:
    """Everything the student's cells printed while graded (the autograded notebook's stream outputs)."""
    path = out / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


@pytest.fixture(scope="module")
def attacked(toy_course, tmp_path_factory):  # noqa: F811
    """One batch of attackers and honest students graded by `autograder grade` with one worker."""
    base = tmp_path_factory.mktemp("attacked")
    honest = student_notebook(toy_course)
    students = {
        "alice": honest,
        "a-env-spy": student_notebook(toy_course, {"double": ENV_SPY}),
        "b-fork-bomb": student_notebook(toy_course, edit=_added(FORK_BOMB)),
        "c-shm-hog": student_notebook(toy_course, edit=_added(SHM_HOG)),
        "d-deep-900": _deep_json(900),
        "d-deep-100000": _deep_json(100_000),
        "e-many-cells": _many_cells(100_000),
        "h-hidden-leak": student_notebook(toy_course, {"double": HIDDEN_LEAK}),
        "s-disk-hog": student_notebook(toy_course, edit=_added(DISK_HOG)),
        "s-disk-next": student_notebook(toy_course, edit=_added(SHOW_HOME)),
        "t-lurker": student_notebook(toy_course, edit=_added(LURKER)),
        "u-after": student_notebook(toy_course, edit=_added(LOOK_AROUND)),
        "zoë": honest,
        "zoé": student_notebook(toy_course, {"double": WRONG_DOUBLE}),
        ".hidden": honest,
        "__MACOSX": honest,
        **{formula: b"" for formula in FORMULAS},  # ids are what is attacked: their files fail at once
    }
    subs = write_nbgrader_layout(base / "submissions", students)
    checkpoints = subs / "alice" / ASSIGNMENT / ".ipynb_checkpoints"
    checkpoints.mkdir()
    (checkpoints / f"{ASSIGNMENT}.ipynb").write_text("not a notebook")
    for name, target in (("f-link-file", subs / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),):
        (subs / name / ASSIGNMENT).mkdir(parents=True)
        (subs / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").symlink_to(target)
    (subs / "f-link-dir").symlink_to(subs / "alice", target_is_directory=True)
    out = base / "out"
    start = time.monotonic()
    done = _grade(subs, out, "--course", str(toy_course), "--workers", "1", "--cell-timeout", "10",
                  "--notebook-timeout", "40")  # fmt: skip
    seconds = time.monotonic() - start
    assert (out / "grades.csv").exists(), done.stderr[-3000:]
    return done, out, _rows(out), seconds


def _status(attacked, student) -> tuple[str, float, str]:
    row = attacked[2][student]
    return row["status"], float(row["score"]), row["reason"]


def test_honest_students_between_the_attackers_get_full_marks(attacked):
    """Are honest students graded with full marks whatever the attackers around them did?"""
    for student in ("alice", "zoë"):
        assert _status(attacked, student)[:2] == ("graded", MAX_SCORE), (student, attacked[2].get(student))
    assert attacked[0].returncode == 0, attacked[0].stderr[-3000:]


# ---------------------------------------------------------------------------------- 1. secrets


@needs_bwrap
def test_grader_environment_never_reaches_student_code(attacked):
    """Can student code find the grader's token or credentials in any environment it can read?"""
    done, out, _, _ = attacked
    assert "ENV" in _outputs(out, "a-env-spy")  # the spy ran
    leaked = [p for p in out.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    leaked += [p for p in out.rglob("*") if p.is_file() and CREDENTIAL.encode() in p.read_bytes()]
    assert leaked == [], f"the grader's secrets reached {leaked}"


@needs_bwrap
def test_sandbox_pid1_cannot_be_ptraced(attacked):
    """Is PTRACE_ATTACH to the sandbox's pid 1 refused?"""
    assert "PTRACE pid1: refused" in _outputs(attacked[1], "a-env-spy")


@needs_bwrap
def test_no_grader_file_reaches_the_kernel(attacked):
    """Does the kernel hold no file descriptor of the grader's own files (e.g. the zygote's log)?"""
    fds = [line for line in _outputs(attacked[1], "a-env-spy").splitlines() if line.startswith("FD ")]
    assert fds, "the spy listed no descriptors"
    assert [line for line in fds if line.endswith(".log")] == []


def test_kernel_only_failure_is_flagged_and_feedback_comes_from_the_clean_room(attacked):
    """Does code that raises only when graded in the notebook (In[-1], caller frames) leak no hidden test?"""
    out = attacked[1]
    errors = _autograded_errors(out, "h-hidden-leak")
    assert "LEAK" in errors and HIDDEN_LINE in errors  # in the kernel, the attack reads the hidden test
    status, score, reason = _status(attacked, "h-hidden-leak")
    assert (status, score) == ("flagged", MAX_SCORE), reason  # the clean room's points, and a flag
    assert "double_values raised ValueError in the kernel but passes the clean-room re-check" in reason
    pages = list((out / "feedback").rglob("*.html"))
    mine = [p for p in pages if "Student: h-hidden-leak" in p.read_text()]
    assert mine, "no feedback page for the student"
    for path in [*mine, out / "grades.csv", out / "results.json"]:
        assert HIDDEN_LINE not in path.read_text(), path


def _autograded_errors(out: Path, student: str) -> str:
    path = out / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("evalue", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


# ---------------------------------------------------------------------------------- 2. files


def test_deeply_nested_json_fails_alone(attacked):
    """Does a notebook nested a thousand or a hundred thousand levels deep fail alone, with its reason?"""
    for student in ("d-deep-900", "d-deep-100000"):
        status, score, reason = _status(attacked, student)
        assert (status, score) == ("failed", 0.0) and "nests JSON" in reason, (student, reason)


def test_huge_cell_count_fails_fast(attacked, tmp_path):
    """Is a 100,000-cell notebook refused before parsing, in linear time and within the time limit?"""
    status, _, reason = _status(attacked, "e-many-cells")
    assert status == "failed" and "100000 cells" in reason, reason
    timings = {}
    for count in (10_000, 100_000):
        path = tmp_path / f"{count}.ipynb"
        path.write_text(_many_cells(count))
        start = time.perf_counter()
        assert "cells" in submissions.check_notebook(path)
        timings[count] = time.perf_counter() - start
    assert timings[100_000] < max(40 * timings[10_000], 1.0)  # linear: 10x the cells is not 100x the time
    assert timings[100_000] < 10  # far inside the 40 s notebook limit


def test_symlinks_in_a_submission_are_never_followed(attacked):
    """Does a notebook or a student folder that is a symbolic link fail, without its target being graded?"""
    for student in ("f-link-file", "f-link-dir"):
        status, score, reason = _status(attacked, student)
        assert (status, score) == ("failed", 0.0), (student, reason)
        assert "a symbolic link, not a notebook" in reason
    pages = list((attacked[1] / "feedback").rglob("*f-link*/**/*.html"))
    assert all("def double" not in p.read_text() for p in pages)


def test_hidden_files_and_macos_folders_are_not_submissions(attacked):
    """Are dotfiles, .ipynb_checkpoints and __MACOSX/ ignored rather than graded or failed?"""
    ids = set(attacked[2])
    assert not any(s.startswith((".", "'.")) or "MACOSX" in s for s in ids), ids


def test_similar_student_ids_get_separate_feedback_pages(attacked):
    """Do zoë and zoé, which share an ASCII stand-in, get one feedback page each, showing their own work?"""
    out = attacked[1]
    assert _status(attacked, "zoë")[1] == MAX_SCORE and _status(attacked, "zoé")[1] == 1.0
    pages = {}
    for page in (out / "feedback").rglob("*.html"):
        text = page.read_text()
        for student in ("zoë", "zoé"):
            if f"Student: {student}" in text:
                pages.setdefault(student, set()).add(page.parent.parent)
    assert set(pages) == {"zoë", "zoé"} and not pages["zoë"] & pages["zoé"], pages


def test_grades_csv_cells_cannot_be_formulas(attacked):
    """Does no cell of grades.csv start with =, +, - or @ (OWASP's CSV injection), ids kept readable?"""
    with open(attacked[1] / "grades.csv", newline="", encoding="utf-8") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert [c for c in cells if c.startswith(("=", "+", "-", "@"))] == []
    for formula in FORMULAS:
        assert f"'{formula}" in cells
    from autograder import export

    assert set(FORMULAS) <= {row["student_id"] for row in export.read_grades(attacked[1] / "grades.csv")}


def test_zero_gradable_submissions_exit_non_zero_saying_why(toy_course, tmp_path):  # noqa: F811
    """Does a folder without one gradable submission exit non-zero with a reason, not 0 with no rows?"""
    junk = tmp_path / "junk"
    (junk / "__MACOSX" / "x").mkdir(parents=True)
    (junk / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (junk / "notes.txt").write_text("nothing to grade")
    done = _grade(junk, tmp_path / "out", "--course", str(toy_course), "--workers", "1")
    assert done.returncode != 0 and "no submissions found" in done.stderr, (
        done.returncode,
        done.stderr[-2000:],
    )


def test_a_zip_made_on_macos_is_read_like_the_plain_zip(toy_course, tmp_path):  # noqa: F811
    """Is an LMS zip with macOS's __MACOSX/ twins and .DS_Store found as the students it holds?"""
    honest = nbformat.writes(student_notebook(toy_course))
    plain, mac = tmp_path / "plain.zip", tmp_path / "mac.zip"
    for archive in (plain, mac):
        with zipfile.ZipFile(archive, "w") as zf:
            for student in ("alice", "bob"):
                zf.writestr(f"download/{student}_{ASSIGNMENT}.ipynb", honest)
            if archive == mac:
                zf.writestr("download/.DS_Store", b"\x00\x00\x00\x01Bud1")
                for student in ("alice", "bob"):
                    zf.writestr(f"__MACOSX/download/._{student}_{ASSIGNMENT}.ipynb", b"\x00\x05\x16\x07Mac")
    found = {}
    for archive in (plain, mac):
        scratch = tmp_path / archive.stem
        scratch.mkdir()
        subs = submissions.discover(archive, {ASSIGNMENT: [ASSIGNMENT]}, scratch)
        found[archive.stem] = [(s.student_id, s.assignment, s.problem, sorted(s.notebooks)) for s in subs]
    assert (
        found["mac"]
        == found["plain"]
        == [
            ("alice", ASSIGNMENT, "", [ASSIGNMENT]),
            ("bob", ASSIGNMENT, "", [ASSIGNMENT]),
        ]
    )


# ---------------------------------------------------------------------------------- 3. limits


@needs_bwrap
def test_fork_bomb_is_capped(attacked):
    """Is a fork bomb refused at the sandbox's task limit (EAGAIN), harming nobody else?"""
    forked = [line for line in _outputs(attacked[1], "b-fork-bomb").splitlines() if line.startswith("FORKED")]
    assert forked and forked[0].split()[3] == "11", forked  # EAGAIN: stopped at the limit on tasks
    assert int(forked[0].split()[1]) < 1024
    assert _status(attacked, "alice")[:2] == ("graded", MAX_SCORE)


@needs_bwrap
def test_shm_cannot_get_around_the_memory_limit(attacked):
    """Can a notebook keep more than its memory limit in /dev/shm, rather than failing or stopping short?"""
    status, _, reason = _status(attacked, "c-shm-hog")
    if status != "failed":
        wrote = [
            line for line in _outputs(attacked[1], "c-shm-hog").splitlines() if line.startswith("SHM wrote")
        ]
        assert wrote and int(wrote[0].split()[2]) < MEMORY, wrote


@needs_bwrap
def test_scratch_disk_is_inside_the_memory_budget(attacked):
    """Does 2 GiB written to scratch fail the notebook with its reason, leaving the next student unharmed?"""
    status, score, reason = _status(attacked, "s-disk-hog")
    assert (status, score) == ("failed", 0.0) and "filled its scratch folder" in reason, (status, reason)
    assert _status(attacked, "s-disk-next")[:2] == ("graded", MAX_SCORE), attacked[2]["s-disk-next"]
    home = [line for line in _outputs(attacked[1], "s-disk-next").splitlines() if line.startswith("HOME")]
    assert home and "hog" not in home[0], home


# ---------------------------------------------------------------------------------- 4. reset


@needs_bwrap
def test_a_thread_outliving_its_main_thread_dies_at_the_reset(attacked):
    """Is a process whose main thread ended (SYS_exit) but another runs on killed before the next student?"""
    assert "LURKER.txt" not in _outputs(attacked[1], "u-after")
    assert _status(attacked, "u-after")[:2] == ("graded", MAX_SCORE), attacked[2]["u-after"]


# ---------------------------------------------------------------------------------- 5. parent death


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        state = sandbox.process_state(int(entry))
        if state is not None:
            found.setdefault(state[1], []).append(int(entry))
    return found


def _tree(pid: int) -> set[int]:
    children, found, todo = _children(), set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _start_time(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


@needs_bwrap
def test_workers_and_sandboxes_die_with_a_killed_parent(toy_course, tmp_path):  # noqa: F811
    """After `autograder grade` is SIGKILLed mid-notebook, are its workers, zygotes and kernels gone?"""
    subs = write_nbgrader_layout(
        tmp_path / "subs",
        {"sleeper": student_notebook(toy_course, edit=_added("import time\ntime.sleep(60)"))},
    )
    cmd = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(tmp_path / "out")]
    cmd += ["--course", str(toy_course), "--workers", "1", "--notebook-timeout", "90", "--cell-timeout", "80"]
    parent = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    tree: dict[int, str | None] = {}
    try:
        end = time.monotonic() + 180
        while time.monotonic() < end and parent.poll() is None:
            pids = _tree(parent.pid)
            cmdlines = [
                Path(f"/proc/{p}/cmdline").read_bytes() for p in pids if Path(f"/proc/{p}/cmdline").exists()
            ]
            if sum(b"bwrap" in c for c in cmdlines) >= 2 and len(pids) >= 8:
                break
            time.sleep(0.5)
        time.sleep(8)  # the kernel is now in its 60 s sleep
        tree = {pid: _start_time(pid) for pid in _tree(parent.pid)}
        assert len(tree) >= 6, "grading never got as far as a running kernel"
        parent.kill()
        parent.wait()
        end = time.monotonic() + 20
        while time.monotonic() < end and any(_start_time(p) == t for p, t in tree.items()):
            time.sleep(0.2)
        survivors = [p for p, t in tree.items() if t is not None and _start_time(p) == t]
        names = [Path(f"/proc/{p}/cmdline").read_bytes()[:120] for p in survivors]
        assert survivors == [], (
            f"{len(survivors)} of {len(tree)} processes outlived the killed parent: {names}"
        )
    finally:
        for pid, started in tree.items():
            if started is not None and _start_time(pid) == started:
                os.kill(pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()
