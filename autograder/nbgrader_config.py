"""nbgrader configuration for this course.

The repository root is nbgrader's course directory: ``solutions/`` is the source directory (instructor
notebooks) and ``course/`` the release directory (student notebooks). Use it from the command line with
``nbgrader <command> --config autograder/nbgrader_config.py``; ``autograder build`` loads it itself.
"""

import os

from autograder.options import GradeOptions

c = get_config()  # noqa: F821 - injected by traitlets when it loads this file

_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

c.CourseDirectory.root = _root
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_root, "build", "gradebook.db")
# One course id for every gradebook row, the exchange and the formgrader (nbgrader's default, '', makes no
# course row, which PostgreSQL's foreign keys refuse).
c.CourseDirectory.course_id = "vanishing-gradients"
# Only notebooks are part of an assignment; nothing else is copied into a release.
c.CourseDirectory.include = ["*.ipynb"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Per-cell timeout while grading (seconds): the grader's default, defined once in GradeOptions.
c.Execute.timeout = GradeOptions.cell_timeout
c.Execute.interrupt_on_timeout = True
c.Execute.allow_errors = True
# Once the last cell has run, nbgrader has every output it keeps: stop the kernel at once instead of asking
# it to exit (a kernel that imported torch and matplotlib takes 1.3-2.3 s to exit on 2 cores).
c.Execute.shutdown_kernel = "immediate"
