"""Gradebook import files: Canvas and Moodle from their own roster exports, a plain CSV; nobody dropped."""

from __future__ import annotations

import csv

import pytest

from autograder import cli, export

GRADES = [
    # student_id, assignment, score, max_score, status, reason
    ("1001", "01-toy", "3", "3", "graded", ""),
    ("1002", "01-toy", "1", "3", "graded", ""),
    ("1003", "01-toy", "0", "3", "failed", "01-toy.ipynb is not valid JSON"),
    ("9999", "01-toy", "2", "3", "graded", ""),  # not in the roster
    ("1001", "02-other", "4", "5", "flagged", "a test cell was edited"),
]

CANVAS_ROSTER = """Student,ID,SIS User ID,SIS Login ID,Section,01-toy (5501),Current Score
    Points Possible,,,,,3,
"Lovelace, Ada",1001,S-01,ada@uni.example,Sec A,,
"Hopper, Grace",1002,S-02,grace@uni.example,Sec A,,
"=cmd|' /C calc'!A0",1003,S-03,mallory@uni.example,Sec B,,
"Turing, Alan",1004,S-04,alan@uni.example,Sec B,,
"""

MOODLE_ROSTER = """\
First name,Last name,ID number,Institution,Department,Email address,Assignment: 01-toy (Real)
Ada,Lovelace,S-01,,,ada@uni.example,-
Grace,Hopper,S-02,,,grace@uni.example,-
Alan,Turing,S-04,,,alan@uni.example,-
"""


def _grades_csv(tmp_path, rows=GRADES):
    path = tmp_path / "grades.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student_id", "assignment", "score", "max_score", "status", "reason"])
        writer.writerows(rows)
    return path


def _read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_canvas_import_file_has_canvas_columns_points_row_and_every_roster_student(tmp_path):
    """Does the Canvas file keep Canvas's columns and assignment header, a Points Possible row, everyone?"""
    (tmp_path / "roster.csv").write_text(CANVAS_ROSTER)
    roster = export.read_roster(tmp_path / "roster.csv", "canvas")
    report = export.export(
        export.read_grades(_grades_csv(tmp_path)), "canvas", tmp_path / "canvas.csv", roster
    )
    rows = _read(tmp_path / "canvas.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01-toy (5501)", "02-other"]
    assert rows[1] == ["Points Possible", "", "", "", "", "3", "5"]
    by_id = {r[1]: r for r in rows[2:]}
    assert set(by_id) == {"1001", "1002", "1003", "1004"}
    assert by_id["1001"][5:] == ["3", "4"] and by_id["1002"][5:] == ["1", ""] and by_id["1003"][5] == "0"
    assert by_id["1004"][5:] == ["", ""]  # no submission: empty, Canvas keeps what it has
    assert report.not_in_roster == ["9999"]
    assert any("Turing" in s for s in report.no_submission)
    assert any(s.startswith("1003 (01-toy): failed") for s in report.review)
    assert any(s.startswith("1001 (02-other): flagged") for s in report.review)
    assert _read(report.unmatched_path)[1][:3] == ["9999", "01-toy", "2"]


def test_formula_cells_are_neutralised(tmp_path):
    """Does a roster name or a student id that starts like a formula reach the file as text?"""
    (tmp_path / "roster.csv").write_text(CANVAS_ROSTER)
    roster = export.read_roster(tmp_path / "roster.csv", "canvas")
    rows = [("@SUM(A1)", "01-toy", "1", "3", "graded", "-2+3"), *GRADES[:3]]
    report = export.export(
        export.read_grades(_grades_csv(tmp_path, rows)), "canvas", tmp_path / "c.csv", roster
    )
    text = (tmp_path / "c.csv").read_text()
    assert "'=cmd|" in text and "\n=cmd" not in text and ",=cmd" not in text
    assert _read(report.unmatched_path)[1][0] == "'@SUM(A1)"
    export.export(export.read_grades(_grades_csv(tmp_path, rows)), "csv", tmp_path / "plain.csv")
    plain = _read(tmp_path / "plain.csv")
    assert ["'@SUM(A1)", "'-2+3"] in [[r[0], r[-1]] for r in plain]
    for cell in ("=1+1", "+1", "-1", "@x", "\tx", "\rx"):
        assert export.neutralise(cell) == "'" + cell
    assert export.neutralise("Ada") == "Ada"


def test_students_are_matched_by_sis_login_and_its_user_part(tmp_path):
    """Is a hub user name (the part of the SIS login before @) or the SIS user id matched to the roster?"""
    (tmp_path / "roster.csv").write_text(CANVAS_ROSTER)
    roster = export.read_roster(tmp_path / "roster.csv", "canvas")
    rows = [("ada", "01-toy", "3", "3", "graded", ""), ("S-02", "01-toy", "2", "3", "graded", "")]
    report = export.export(
        export.read_grades(_grades_csv(tmp_path, rows)), "canvas", tmp_path / "c.csv", roster
    )
    by_id = {r[1]: r[5] for r in _read(tmp_path / "c.csv")[2:]}
    assert by_id == {"1001": "3", "1002": "2", "1003": "", "1004": ""}
    assert report.not_in_roster == []


def test_moodle_file_matches_by_id_number_or_email(tmp_path):
    """Does the Moodle file carry ID number and email for every roster student, under Moodle's header?"""
    (tmp_path / "roster.csv").write_text(MOODLE_ROSTER)
    roster = export.read_roster(tmp_path / "roster.csv", "moodle")
    rows = [
        ("S-01", "01-toy", "3", "3", "graded", ""),
        ("grace@uni.example", "01-toy", "2", "3", "graded", ""),
    ]
    rows.append(("1003", "01-toy", "0", "3", "failed", "x"))
    report = export.export(
        export.read_grades(_grades_csv(tmp_path, rows)), "moodle", tmp_path / "m.csv", roster
    )
    out = _read(tmp_path / "m.csv")
    assert out[0] == ["First name", "Last name", "ID number", "Email address", "Assignment: 01-toy (Real)"]
    assert out[1:] == [
        ["Ada", "Lovelace", "S-01", "ada@uni.example", "3"],
        ["Grace", "Hopper", "S-02", "grace@uni.example", "2"],
        ["Alan", "Turing", "S-04", "alan@uni.example", ""],
    ]
    assert report.not_in_roster == ["1003"] and report.no_submission == ["Alan Turing [S-04] (01-toy)"]


def test_late_penalty_is_nbgraders(tmp_path):
    """Does nbgrader's 'zero' late policy zero a late submission only, and 'none' keep its score?"""
    grades = export.read_grades(_grades_csv(tmp_path, GRADES[:2]))
    late = {("1001", "01-toy"): 3600.0}
    export.export(grades, "csv", tmp_path / "zero.csv", late=late, penalty="zero")
    export.export(grades, "csv", tmp_path / "none.csv", late=late, penalty="none")
    zero = {r[0]: r[2] for r in _read(tmp_path / "zero.csv")[1:]}
    none = {r[0]: (r[2], r[5]) for r in _read(tmp_path / "none.csv")[1:]}
    assert zero == {"1001": "0", "1002": "1"}
    assert none == {"1001": ("3", "3600"), "1002": ("1", "0")}


def test_bad_input_names_the_problem(tmp_path):
    """Are a roster without identifier columns, a missing roster and a bad format refused by name?"""
    (tmp_path / "roster.csv").write_text("Name,Grade\nAda,1\n")
    with pytest.raises(ValueError, match="roster .* has none of the columns id, sis user id"):
        export.read_roster(tmp_path / "roster.csv", "canvas")
    with pytest.raises(ValueError, match="format 'blackboard' is not one of canvas, moodle, csv"):
        export.read_roster(tmp_path / "roster.csv", "blackboard")
    with pytest.raises(ValueError, match="needs --roster"):
        export.export([], "canvas", tmp_path / "x.csv")


def test_cli_export_lists_unplaced_students(tmp_path, capsys):
    """Does `autograder export` write the file and print who is not in the roster and who did not submit?"""
    (tmp_path / "roster.csv").write_text(CANVAS_ROSTER)
    grades = _grades_csv(tmp_path)
    argv = ["export", "--format", "canvas", "--roster", str(tmp_path / "roster.csv"), "--grades", str(grades)]
    assert cli.main([*argv, "--to", str(tmp_path / "canvas.csv")]) == 0
    out = capsys.readouterr().out
    assert "NOT IN ROSTER (1)" in out and "9999" in out and "Turing, Alan [1004]" in out
    assert (tmp_path / "canvas.csv").is_file()
