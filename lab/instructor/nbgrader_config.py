"""nbgrader as the instructor's JupyterLab sees it: this course's config and the last grading's gradebook.

The formgrader (manual grading of the written answers) opens ``COURSE_GRADING_OUT/gradebook.db`` and the
notebooks in ``COURSE_GRADING_OUT/autograded`` (default ``demo-out``); before any grading run it opens the
build's gradebook (``build/gradebook.db``), which knows the assignments but no submissions.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import course_lab  # noqa: E402 - lab/course_lab.py, found through the line above

c = get_config()  # noqa: F821 - injected by traitlets when it loads this file

load_subconfig(os.path.join(course_lab.REPO, "autograder", "nbgrader_config.py"))  # noqa: F821 - traitlets
course_lab.exchange_config(c)
_gradebook = os.path.join(course_lab.GRADING_OUT, "gradebook.db")
if os.path.exists(_gradebook):
    c.CourseDirectory.db_url = "sqlite:///" + _gradebook
    c.CourseDirectory.autograded_directory = os.path.relpath(
        os.path.join(course_lab.GRADING_OUT, "autograded"), course_lab.REPO
    )
