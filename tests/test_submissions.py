"""Finding submissions (nbgrader layout, LMS folder or zip) and refusing files that are not notebooks."""

from __future__ import annotations

import json
import zipfile

import nbformat
import pytest

from autograder import authoring
from autograder.submissions import NotebookProblem, check_notebook, discover, extract_zip, parse_notebook

EXPECTED = {"01-toy": ["01-toy"], "02-other": ["02-other"]}


def _nb_text() -> str:
    return nbformat.writes(authoring.notebook([authoring.code("x = 1")]))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "is an empty file"),
        (b"{not json", "is not valid JSON"),
        (b"%PDF-1.4 binary", "is not a notebook (binary file"),
        (b"PK\x03\x04zipdata", "is not a notebook (binary file"),
        (b'{"hello": 1}', "is JSON but not a notebook"),
        (b"print('a python file')", "is not valid JSON"),
        (_nb_text().replace('"nbformat": 4', '"nbformat": 5').encode(), "has nbformat 5"),
        (b'{"cells": "nope", "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "is not a valid notebook"),
    ],
)
def test_check_notebook_refuses(tmp_path, content, reason):
    """Is each kind of non-notebook refused with a reason that names the file and the problem?"""
    path = tmp_path / "01-toy.ipynb"
    path.write_bytes(content)
    problem = check_notebook(path)
    assert reason in problem and "01-toy.ipynb" in problem


def test_check_notebook_accepts_a_notebook(tmp_path):
    """Is a real nbformat 4 notebook accepted?"""
    path = tmp_path / "01-toy.ipynb"
    path.write_text(_nb_text())
    assert check_notebook(path) == ""


def test_check_notebook_parses_the_file_once(tmp_path, monkeypatch):
    """Does checking a notebook parse its JSON once, validating what it parsed rather than a second parse?"""
    path = tmp_path / "01-toy.ipynb"
    path.write_text(_nb_text())
    check_notebook(path)  # nbformat's schema is loaded and cached on first use
    parses, real = [], json.loads
    monkeypatch.setattr(json, "loads", lambda *args, **kw: parses.append(1) or real(*args, **kw))
    assert check_notebook(path) == "" and len(parses) == 1


def test_the_worker_parses_a_submission_once_as_nbformat_would(monkeypatch):
    """Does parsing a job's bytes call json.loads once and give what nbformat.reads gives?"""
    raw = _nb_text().encode()
    expected = nbformat.reads(raw.decode(), as_version=4)
    parses, real = [], json.loads
    monkeypatch.setattr(json, "loads", lambda *args, **kw: parses.append(1) or real(*args, **kw))
    nb, ids = parse_notebook(raw, "01-toy.ipynb")
    assert len(parses) == 1 and nb == expected and ids == [c.get("id") for c in expected.cells]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "is not valid JSON"),
        (b"\xff\xfe{}", "is not valid JSON"),
        (b'{"hello": 1}', "is JSON but not a notebook"),
        (b'{"cells": [], "nbformat": 3}', "has nbformat 3"),
        (b'{"cells": "nope", "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "is not a valid notebook"),
        (b'{"cells": [1, 2], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "is not a valid notebook"),
    ],
)
def test_parse_notebook_raises_what_check_notebook_says(tmp_path, content, reason):
    """Does the worker's parse refuse a non-notebook with the reason collecting gives, naming the file?"""
    with pytest.raises(NotebookProblem, match=reason) as caught:
        parse_notebook(content, "01-toy.ipynb")
    path = tmp_path / "01-toy.ipynb"
    path.write_bytes(content)
    assert str(caught.value) == check_notebook(path)


def test_discover_for_grading_checks_bytes_without_parsing(tmp_path, monkeypatch):
    """With parse=False, is an unparsable file left to the worker and an empty one still refused?"""
    _write(tmp_path / "ann" / "01-toy" / "01-toy.ipynb", "{not json")
    _write(tmp_path / "ben" / "01-toy" / "01-toy.ipynb", "")
    _write(tmp_path / "cy" / "01-toy" / "01-toy.ipynb", _nb_text())
    parses, real = [], json.loads
    monkeypatch.setattr(json, "loads", lambda *args, **kw: parses.append(1) or real(*args, **kw))
    subs = {s.student_id: s for s in discover(tmp_path, EXPECTED, tmp_path / "scratch", parse=False)}
    assert parses == []
    assert subs["ann"].problem == "" and subs["cy"].problem == ""
    assert subs["ben"].problem == "01-toy.ipynb is an empty file"


def test_check_notebook_refuses_huge_file(tmp_path):
    """Is a notebook over the size limit (e.g. huge stored outputs) refused with its size?"""
    path = tmp_path / "01-toy.ipynb"
    path.write_text(_nb_text())
    assert "over the" in check_notebook(path, max_bytes=10)


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_nbgrader_layout(tmp_path):
    """Does the submitted/ layout give one submission per student x assignment, with problems named?"""
    _write(tmp_path / "ann" / "01-toy" / "01-toy.ipynb", _nb_text())
    _write(tmp_path / "ann" / "02-other" / "Copy of 02-other.ipynb", _nb_text())
    _write(tmp_path / "ben" / "01-toy" / "notes.txt", "sorry")
    subs = {(s.student_id, s.assignment): s for s in discover(tmp_path, EXPECTED, tmp_path / "scratch")}
    assert sorted(subs) == [("ann", "01-toy"), ("ann", "02-other"), ("ben", "01-toy"), ("ben", "02-other")]
    assert subs["ann", "01-toy"].problem == "" and subs["ann", "01-toy"].notebooks["01-toy"].is_file()
    assert "renamed notebook" in subs["ann", "02-other"].problem
    assert "missing notebook 01-toy.ipynb (found notes.txt)" in subs["ben", "01-toy"].problem
    assert subs["ben", "02-other"].problem == "nothing submitted for 02-other"


def test_lms_folder(tmp_path):
    """Does a folder of <student>_<assignment>.ipynb files (ids with underscores too) work?"""
    _write(tmp_path / "an_na_01-toy.ipynb", _nb_text())
    _write(tmp_path / "bo_01-toy.pdf", "%PDF")
    _write(tmp_path / "cy_01-toy (1).ipynb", _nb_text())
    subs = {(s.student_id, s.assignment): s for s in discover(tmp_path, EXPECTED, tmp_path / "scratch")}
    assert sorted(subs) == [("an_na", "01-toy"), ("bo", "01-toy"), ("cy", "01-toy")]
    assert subs["an_na", "01-toy"].problem == ""
    assert "not a notebook file: bo_01-toy.pdf" in subs["bo", "01-toy"].problem
    assert "renamed notebook: cy_01-toy (1).ipynb" in subs["cy", "01-toy"].problem


def test_lms_zip(tmp_path):
    """Is a zip of LMS files (inside one folder) extracted to scratch and read like the folder?"""
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("export/an_01-toy.ipynb", _nb_text())
        zf.writestr("export/bo_01-toy.ipynb", "")
    subs = discover(archive, EXPECTED, tmp_path / "scratch")
    expected = [("an", ""), ("bo", "bo_01-toy.ipynb is an empty file")]
    assert [(s.student_id, s.problem) for s in subs] == expected
    assert subs[0].notebooks["01-toy"].is_relative_to(tmp_path / "scratch")


def test_zip_slip_refused(tmp_path):
    """Is a zip whose member escapes the extraction folder refused, naming the member?"""
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escape_01-toy.ipynb", "{}")
    with pytest.raises(ValueError, match="escape_01-toy"):
        extract_zip(archive, tmp_path / "scratch")


def test_missing_submissions_path(tmp_path):
    """Is a submissions path that does not exist refused with its name?"""
    with pytest.raises(ValueError, match="nowhere"):
        discover(tmp_path / "nowhere", EXPECTED, tmp_path)


def test_discover_reads_only(tmp_path):
    """Does discovery leave the submitted files untouched?"""
    path = tmp_path / "ann" / "01-toy" / "01-toy.ipynb"
    _write(path, _nb_text())
    before = path.read_bytes()
    discover(tmp_path, EXPECTED, tmp_path / "scratch")
    assert path.read_bytes() == before and json.loads(before)["nbformat"] == 4


def test_a_notebook_cut_off_inside_a_string_is_refused_quickly(tmp_path):
    """Is a file cut off inside a long string with escapes (a broken upload) refused in linear time?"""
    import time

    path = tmp_path / "cut.ipynb"
    path.write_bytes(b'{"cells": [{"source": "' + b"ab\\n" * 24)
    start = time.perf_counter()
    reason = check_notebook(path)
    # a backtracking string pattern needs seconds here and doubles with every two more characters
    assert time.perf_counter() - start < 1.0 and "not valid JSON" in reason
