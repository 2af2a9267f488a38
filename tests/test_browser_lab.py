"""The course in a real JupyterLab as a student sees it (`make lab`): Run All, figures, widget, Validate.

One student-mode JupyterLab (``lab/student``) serves every test of this module; each test opens its own
page. The lessons are copies of ``course/`` (what students get) and ``solutions/`` (every answer right).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from browser import ConsoleLog, JupyterLab, Tab

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-lab")]

REPO = Path(__file__).resolve().parents[1]
LESSONS = ("01-backprop", "03-initialization")
#: A notebook's DOM keeps every cell (no virtual scrolling), so the tests can read all outputs.
SETTINGS = {"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}}
#: Console noise of JupyterLab itself that says nothing about the course.
_PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
LAB_NOISE = (r"favicon", r"Failed to load resource.*(404|401)", r"lsp", r"language server")


def _lesson(folder: str, lesson: str) -> Path:
    return REPO / folder / lesson / f"{lesson}.ipynb"


@pytest.fixture(scope="module")
def student_lab(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Student-mode JupyterLab over fresh (``course/``) and solved (``solutions/``) copies of two lessons."""
    root = tmp_path_factory.mktemp("student-lab")
    for kind, folder in (("fresh", "course"), ("solved", "solutions")):
        (root / kind).mkdir()
        for lesson in LESSONS:
            shutil.copy(_lesson(folder, lesson), root / kind / f"{lesson}.ipynb")
    env = {"COURSE_EXCHANGE": str(root / "exchange")}
    with JupyterLab(root, config_dir=REPO / "lab" / "student", settings=SETTINGS, env=env) as server:
        yield server


@pytest.fixture(scope="module")
def module_context(chromium: Any) -> Any:
    """One browser context for the module's pages (pages are cheap, contexts are not)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def _open(context: Any, lab: JupyterLab, path: str) -> Tab:
    page = context.new_page()
    console = ConsoleLog.attach(page)
    cells = len(lab.api("GET", f"/api/contents/{path}?content=1")["content"]["cells"])
    page.goto(lab.lab_url(path, workspace=re.sub(r"\W", "-", path)))
    page.wait_for_function(  # every cell rendered (JupyterLab renders a long notebook in batches)
        f"() => document.querySelectorAll('{_PANEL} .jp-Cell').length === {cells}", timeout=90_000
    )
    page.wait_for_function(
        "() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
        " return s && s.getAttribute('data-status') === 'idle'; }",
        timeout=90_000,
    )
    return Tab(page, console)


def _menu(page: Any, menu: str, item: str) -> None:
    page.locator(f"{_PANEL} .jp-Cell").first.click()  # the notebook is the active widget
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).first.click()


_PROMPTS = (
    "() => Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell'))"
    ".map(c => (c.querySelector('.jp-InputArea-prompt') || {}).textContent || '')"
)


def _run_all(page: Any, timeout: float = 240) -> list[str]:
    """Run All from the menu; wait until nothing is running or queued. Returns every code cell's prompt."""
    started = f"() => ({_PROMPTS})().some(p => p.includes('*') || /\\[\\d+\\]/.test(p))"
    for attempt in (1, 2):  # a click that lands while JupyterLab is still settling can be lost: retry once
        _menu(page, "Run", "Run All Cells")
        try:
            page.wait_for_function(started, timeout=60_000)
            break
        except Exception:
            if attempt == 2:
                raise AssertionError(f"Run All did not start: prompts {page.evaluate(_PROMPTS)}") from None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        prompts = page.evaluate(_PROMPTS)
        if not any("*" in p for p in prompts):
            time.sleep(1.0)  # the kernel may still be sending the last outputs
            again = page.evaluate(_PROMPTS)
            if again == prompts:
                return prompts
        time.sleep(0.5)
    raise AssertionError(f"Run All still running after {timeout:g} s: {page.evaluate(_PROMPTS)}")


def _errors(page: Any) -> list[str]:
    """The text of every error output, in notebook order."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll("
        "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output[data-mime-type="
        '"application/vnd.jupyter.stderr"]\')).map(e => e.innerText)'
    )


def _test_cells(path: Path) -> int:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum(
        1
        for c in nb["cells"]
        if c["cell_type"] == "code"
        and c["metadata"].get("nbgrader", {}).get("grade")
        and not c["metadata"]["nbgrader"].get("solution")
    )


@pytest.mark.parametrize("lesson", LESSONS)
def test_fresh_lesson_run_all_reaches_the_last_cell(student_lab, module_context, lesson):
    """Does Run All on an untouched lesson run every code cell, each failing test short and visible?"""
    tab = _open(module_context, student_lab, f"fresh/{lesson}.ipynb")
    try:
        prompts = _run_all(tab.page)
        assert prompts and all(re.search(r"\[\d+\]", p) for p in prompts), prompts
        errors = _errors(tab.page)
        failing = [e for e in errors if "CheckFailure" in e]
        # every test cell fails on an untouched notebook; nothing else may fail
        assert len(failing) == len(errors) == _test_cells(_lesson("course", lesson)), errors
        for err in failing:
            lines = [ln for ln in err.splitlines() if ln.strip()]
            assert lines[0].startswith("CheckFailure: ") and "not implemented yet" in lines[0], err
            assert len(lines) <= 3 and "gradlib/checks" not in err, err
        tab.page.screenshot(path=str(student_lab.root_dir / f"{lesson}-fresh.png"))
    finally:
        tab.page.close()


@pytest.fixture(scope="module")
def solved_03(student_lab, module_context) -> Tab:
    """Lesson 03's solution after Run All, shared by the figure and the widget tests."""
    tab = _open(module_context, student_lab, "solved/03-initialization.ipynb")
    _run_all(tab.page)
    yield tab
    tab.page.close()


def _saved_images(lab: JupyterLab, page: Any, path: str) -> int:
    """Save the notebook from the browser and count the PNG outputs in the saved file."""
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => !document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-mod-dirty')"
        " && !document.querySelector('.lm-TabBar-tab.jp-mod-dirty')",
        timeout=30_000,
    )
    nb = lab.api("GET", f"/api/contents/{path}?content=1")["content"]
    return sum(
        1
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for o in c["outputs"]
        if "image/png" in o.get("data", {})
    )


def _rendered_images(page: Any) -> list[int]:
    return page.evaluate(
        "() => Array.from(document.querySelectorAll("
        "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img')).map(i => i.naturalWidth)"
    )


def test_solution_run_all_renders_every_figure(student_lab, module_context, solved_03):
    """Does a solution's Run All pass every test and draw every figure it produces as a real image?"""
    tabs = [solved_03, _open(module_context, student_lab, "solved/01-backprop.ipynb")]
    _run_all(tabs[1].page)
    for tab, path in zip(tabs, ("solved/03-initialization.ipynb", "solved/01-backprop.ipynb"), strict=True):
        assert _errors(tab.page) == []
        widths = _rendered_images(tab.page)
        saved = _saved_images(student_lab, tab.page, path)
        assert saved >= 3, f"{path}: only {saved} figures"
        # the widget's figure lives in the widget's output, not in the saved cell outputs
        assert len(widths) >= saved and all(w > 100 for w in widths), (path, widths, saved)
        tab.console.assert_clean(ignore=LAB_NOISE)
    tabs[1].page.close()


def test_widget_redraws_when_a_slider_moves(solved_03):
    """Does lesson 03's explorer draw a new figure when its depth slider moves?"""
    page = solved_03.page
    widget = page.locator(".widget-interact").first
    widget.scroll_into_view_if_needed()
    image = widget.locator("img").first
    image.wait_for(timeout=30_000)
    before = image.get_attribute("src")
    handle = widget.locator(".widget-slider .noUi-handle, .widget-slider .ui-slider-handle").first
    handle.focus()
    for _ in range(10):
        handle.press("ArrowRight")
    page.wait_for_function(
        "([el, old]) => { const i = el.querySelector('img'); return i && i.src !== old; }",
        arg=[widget.element_handle(), before],
        timeout=60_000,
    )
    readout = widget.locator(".widget-readout").first.inner_text()
    assert readout.strip() != "20", readout


def _validate(context: Any, lab: JupyterLab, path: str) -> Any:
    tab = _open(context, lab, path)
    tab.page.locator(f"{_PANEL} .jp-Toolbar").get_by_text("Validate", exact=True).first.click()
    dialog = tab.page.locator(".jp-Dialog")
    dialog.wait_for(timeout=180_000)
    return tab, dialog


def test_validate_passes_a_solution(student_lab, module_context):
    """Does Validate in the student's JupyterLab pass a solved lesson?"""
    tab, dialog = _validate(module_context, student_lab, "solved/01-backprop.ipynb")
    assert "Success! Your notebook passes all the tests." in dialog.inner_text()
    tab.page.close()


def test_validate_fails_an_untouched_notebook_in_one_line_per_test(student_lab, module_context):
    """Does Validate fail an untouched lesson, each failing test's error one line with its message?"""
    tab, dialog = _validate(module_context, student_lab, "fresh/01-backprop.ipynb")
    text = dialog.inner_text()
    errors = [e.inner_text().strip() for e in dialog.locator(".jp-RenderedText pre").all()][1::2]
    assert "VALIDATION FAILED" in text or "failed" in text.lower(), text[:500]
    assert len(errors) == _test_cells(_lesson("course", "01-backprop")), errors
    for err in errors:
        assert "\n" not in err and err.startswith("CheckFailure: "), err
    assert "Traceback" not in text and "gradlib/checks" not in text
    tab.page.screenshot(path=str(student_lab.root_dir / "validate-fresh.png"))
    tab.page.close()


def _menu_items(page: Any, menu: str) -> list[str]:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    items = [t for t in page.locator(".lm-Menu-itemLabel").all_inner_texts() if t.strip()]
    page.keyboard.press("Escape")
    return items


def test_student_mode_shows_no_instructor_tools(student_lab, module_context):
    """In `make lab`, are Formgrader, Create Assignment and the course list gone, the Assignment List calm?"""
    tab = _open(module_context, student_lab, "fresh/01-backprop.ipynb")
    page = tab.page
    assert _menu_items(page, "Nbgrader") == ["Assignment List"]
    assert page.locator(".lm-TabBar-tab", has_text="Create Assignment").count() == 0
    with pytest.raises(Exception, match="404"):
        student_lab.api("GET", "/formgrader/api/assignments")
    _menu(page, "Nbgrader", "Assignment List")
    panel = page.locator(".lm-Widget", has_text="Released assignments").last
    panel.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => document.body.innerText.includes('There are no assignments to fetch')", timeout=30_000
    )
    body = page.locator("body").inner_text()
    for bad in ("Error", "error", "does not exist"):
        assert bad not in body, body[-800:]
    tab.console.assert_clean(ignore=LAB_NOISE)
    page.close()


def test_lab_config_turns_off_the_news_pop_up(student_lab):
    """Do lab/settings' overrides make "no news, no update check" the default a first-time user gets?"""
    schema = student_lab.api("GET", "/lab/api/settings/@jupyterlab/apputils-extension:notification")["schema"]
    assert schema["properties"]["fetchNews"]["default"] == "false"
    assert schema["properties"]["checkForUpdates"]["default"] is False


@pytest.fixture(scope="module")
def instructor_lab(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`make lab-instructor`'s JupyterLab on this repository, its formgrader on an empty gradebook."""
    import sqlite3

    out = tmp_path_factory.mktemp("grading-out")
    sqlite3.connect(out / "gradebook.db").close()  # an empty gradebook: the formgrader creates its tables
    env = {"COURSE_GRADING_OUT": str(out), "COURSE_EXCHANGE": str(out / "exchange")}
    with JupyterLab(REPO, config_dir=REPO / "lab" / "instructor", settings=SETTINGS, env=env) as server:
        yield server


def test_instructor_mode_formgrader_knows_this_course(instructor_lab, module_context):
    """In `make lab-instructor`, does the formgrader list every lesson of solutions/ from this course?"""
    listed = {a["name"] for a in instructor_lab.api("GET", "/formgrader/api/assignments")}
    lessons = {
        p.name for p in (REPO / "solutions").iterdir() if p.is_dir() and (p / f"{p.name}.ipynb").exists()
    }
    assert lessons and lessons <= listed, (lessons, listed)
    page = module_context.new_page()
    page.goto(instructor_lab.lab_url(workspace="instructor"))
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Nbgrader$")).click()
    items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
    assert "Formgrader" in items and "Create assignment" in items, items
    page.close()
