"""Canvas and Moodle: their download naming, collecting a download, the LMS round trip with real grading."""

from __future__ import annotations

import csv
import hashlib
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
from autograder_fixtures import ASSIGNMENT, WRONG_TOTAL, student_notebook, toy_course  # noqa: F401

from autograder import cli, lms

EXPECTED = {ASSIGNMENT: [ASSIGNMENT]}


@pytest.mark.parametrize(
    ("name", "platform", "student", "filename", "late", "version"),
    [
        ("lovelaceada_1001_5501_01-toy.ipynb", "canvas", "1001", "01-toy.ipynb", False, 0),
        ("lovelaceada_LATE_1001_5501_01-toy.ipynb", "canvas", "1001", "01-toy.ipynb", True, 0),
        ("lovelaceada_1001_5501_01-toy-2.ipynb", "canvas", "1001", "01-toy.ipynb", False, 2),
        ("hopper_1002_5502_my_work.ipynb", "canvas", "1002", "my_work.ipynb", False, 0),
        ("Ada Lovelace_88_assignsubmission_file_01-toy.ipynb", "moodle", "88", "01-toy.ipynb", False, 0),
        (
            "Ada_B Lovelace_88_assignsubmission_file_01-toy (1).ipynb",
            "moodle",
            "88",
            "01-toy (1).ipynb",
            False,
            0,
        ),
    ],
)
def test_identify_reads_canvas_and_moodle_names(name, platform, student, filename, late, version):
    """Does each LMS file name give the platform, the student's LMS id, the uploaded name and lateness?"""
    hit = lms.identify(Path("/download") / name)
    assert (hit.platform, hit.student_id, hit.filename, hit.late, hit.version) == (
        platform,
        student,
        filename,
        late,
        version,
    )
    assert name.startswith(hit.prefix) and hit.prefix


def test_identify_moodle_folder_and_plain_names():
    """Is a file in a Moodle per-student folder identified, and a plain <student>_<assignment> name not?"""
    hit = lms.identify(Path("/dl/Grace Hopper_91_assignsubmission_file_/01-toy.ipynb"), Path("/dl"))
    assert (hit.platform, hit.student_id, hit.name, hit.filename) == (
        "moodle",
        "91",
        "Grace Hopper",
        "01-toy.ipynb",
    )
    assert lms.identify(Path("/dl/ada_01-toy.ipynb")) is None
    assert lms.identify(Path("/dl/notes.txt")) is None


def _write(path: Path, nb) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _canvas_download(folder: Path, course: Path) -> Path:
    """A Canvas "Download Submissions" folder: a resubmission, a late one, a renamed one, a PDF."""
    right, wrong = student_notebook(course), student_notebook(course, {"total": WRONG_TOTAL})
    old = _write(folder / "lovelaceada_1001_5501_01-toy.ipynb", wrong)
    _write(folder / "lovelaceada_1001_5501_01-toy-1.ipynb", right)
    old.touch()  # the older upload is touched last: the version number decides, not the time
    _write(folder / "hoppergrace_LATE_1002_5502_01-toy.ipynb", wrong)
    _write(folder / "mallory_1003_5503_homework.ipynb", right)
    (folder / "turingalan_1004_5504_01-toy.pdf").write_bytes(b"%PDF-1.4 not a notebook")
    return folder


def test_canvas_download_is_discovered_per_student(tmp_path, toy_course):  # noqa: F811
    """Does a Canvas download give one submission per user id, newest upload, renamed and PDF refused?"""
    download = _canvas_download(tmp_path / "dl", toy_course)
    subs = {s.student_id: s for s in lms.discover(download, EXPECTED, tmp_path / "scratch")}
    assert sorted(subs) == ["1001", "1002", "1003", "1004"]
    assert subs["1001"].notebooks[ASSIGNMENT].name == "lovelaceada_1001_5501_01-toy-1.ipynb"
    assert subs["1001"].problem == "" and subs["1002"].problem == ""
    assert subs["1003"].problem.startswith("renamed notebook: homework.ipynb (expected 01-toy.ipynb)")
    assert subs["1004"].problem.startswith("not a notebook file: 01-toy.pdf")


def test_grading_reads_a_canvas_download_directly(tmp_path, toy_course):  # noqa: F811
    """Does the submissions reader that `autograder grade` uses take a Canvas download as it is?"""
    from autograder import submissions

    download = _canvas_download(tmp_path / "dl", toy_course)
    subs = {s.student_id: s for s in submissions.discover(download, EXPECTED, tmp_path / "scratch")}
    assert sorted(subs) == ["1001", "1002", "1003", "1004"]
    assert subs["1001"].notebooks[ASSIGNMENT].name == "lovelaceada_1001_5501_01-toy-1.ipynb"


def test_plain_folder_is_not_an_lms_download(tmp_path, toy_course):  # noqa: F811
    """Does discover leave a folder of <student>_<assignment>.ipynb files to the ordinary reader (None)?"""
    _write(tmp_path / "dl" / "ada_01-toy.ipynb", student_notebook(toy_course))
    assert lms.discover(tmp_path / "dl", EXPECTED, tmp_path / "scratch") is None


def test_moodle_download_in_folders_and_flat(tmp_path, toy_course):  # noqa: F811
    """Are Moodle's per-student folders and flat names both read, and its online-text files ignored?"""
    dl = tmp_path / "moodle"
    _write(dl / "Ada Lovelace_88_assignsubmission_file_" / "01-toy.ipynb", student_notebook(toy_course))
    _write(dl / "Grace Hopper_89_assignsubmission_file_01-toy (1).ipynb", student_notebook(toy_course))
    (dl / "Grace Hopper_89_assignsubmission_onlinetext_onlinetext.html").write_text("<p>hi</p>")
    archive = tmp_path / "moodle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in dl.rglob("*"):
            zf.write(p, p.relative_to(dl))
    subs = lms.collect(archive, tmp_path / "submitted", EXPECTED)
    assert [(s.student_id, s.problem) for s in subs] == [("88", ""), ("89", "")]
    assert (tmp_path / "submitted" / "89" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    record = lms_record(tmp_path / "submitted")
    assert record["88"]["name"] == "Ada Lovelace" and record["89"]["prefix"].startswith("Grace Hopper_89_")


def lms_record(folder: Path) -> dict:
    import json

    return json.loads((folder / lms.LMS_FILE).read_text())


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*")}


@pytest.mark.nbgrader
def test_lms_round_trip(tmp_path, toy_course, capsys):  # noqa: F811
    """Release for Canvas, grade its download, return per-student feedback zips, export Canvas's CSV."""
    course = tmp_path / "course-root"
    shutil.copytree(toy_course, course)
    assert cli.main(["release", ASSIGNMENT, "--to", str(tmp_path / "lms"), "--course", str(course)]) == 0
    released = nbformat.read(tmp_path / "lms" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    assert "### BEGIN SOLUTION" not in str(released) and zipfile.is_zipfile(
        tmp_path / "lms" / f"{ASSIGNMENT}.zip"
    )

    download = _canvas_download(tmp_path / "dl", course)
    before = _digest(download)
    archive = shutil.make_archive(str(tmp_path / "submissions"), "zip", download)
    argv = ["collect", ASSIGNMENT, "--from-lms", archive, "--course", str(course)]
    assert cli.main(argv) == 0
    out = tmp_path / "out"
    argv = ["grade", str(course / "submitted"), "--out", str(out), "--course", str(course), "--workers", "1"]
    assert cli.main(argv) == 0
    grades = {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert grades["1001"]["score"] == grades["1001"]["max_score"] == "3"
    assert float(grades["1002"]["score"]) < 3
    assert "renamed notebook" in grades["1003"]["reason"] and "found 01-toy.pdf" in grades["1004"]["reason"]

    assert (
        cli.main(
            ["return", ASSIGNMENT, "--out", str(out), "--to", str(tmp_path / "fb"), "--course", str(course)]
        )
        == 0
    )
    with zipfile.ZipFile(tmp_path / "fb" / "1001.zip") as zf:
        assert zf.namelist() == [f"{ASSIGNMENT}/{ASSIGNMENT}.html"]
        page = zf.read(zf.namelist()[0]).decode()
    assert "HIDDEN TESTS" not in page and "-1.5, 7.0" not in page  # no hidden-test source
    with zipfile.ZipFile(tmp_path / "fb" / "canvas-feedback.zip") as zf:
        names = sorted(zf.namelist())
    assert "lovelaceada_1001_5501_01-toy-01-toy-feedback.html" in names
    assert all(lms.identify(Path(n)).student_id in grades for n in names)

    roster = tmp_path / "roster.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,01-toy (777)\n    Points Possible,,,,,3\n"
        '"Lovelace, Ada",1001,,ada,A,\n"Hopper, Grace",1002,,grace,A,\n"Turing, Alan",1004,,alan,A,\n'
        '"Noether, Emmy",1005,,emmy,A,\n'
    )
    argv = ["export", "--format", "canvas", "--roster", str(roster), "--grades", str(out / "grades.csv")]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "NOT IN ROSTER (1)" in printed and "1003" in printed and "Noether, Emmy [1005]" in printed
    rows = list(csv.reader(open(out / "canvas-import.csv")))
    assert rows[1] == ["Points Possible", "", "", "", "", "3"]
    assert {r[1]: r[5] for r in rows[2:]} == {
        "1001": "3",
        "1002": grades["1002"]["score"],
        "1004": "0",
        "1005": "",
    }
    assert _digest(download) == before  # the download is never modified
