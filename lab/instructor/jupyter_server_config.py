"""JupyterLab for instructors: every nbgrader tool, connected to this course's config and gradebook."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import course_lab  # noqa: E402 - lab/course_lab.py, found through the line above

c = get_config()  # noqa: F821 - injected by traitlets when it loads this file

course_lab.lab_config(c, instructor=True)
