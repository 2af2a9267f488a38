"""Paths and names shared by the student and the instructor JupyterLab configurations.

``make lab`` and ``make lab-instructor`` point ``JUPYTER_CONFIG_DIR`` at ``lab/student`` or
``lab/instructor``; the ``jupyter_server_config.py`` and ``nbgrader_config.py`` there load this file.
Environment variables override the defaults:

- ``COURSE_ID``: nbgrader's course id (default ``vanishing-gradients``).
- ``COURSE_EXCHANGE``: nbgrader's exchange folder (default ``build/exchange`` in the repository).
- ``COURSE_GRADING_OUT``: the ``autograder grade --out`` folder whose gradebook and autograded notebooks the
  instructor's formgrader opens (default ``demo-out``, what ``make demo`` writes).
"""

import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COURSE_ID = os.environ.get("COURSE_ID", "vanishing-gradients")
EXCHANGE = os.path.abspath(os.environ.get("COURSE_EXCHANGE", os.path.join(REPO, "build", "exchange")))
GRADING_OUT = os.path.abspath(os.environ.get("COURSE_GRADING_OUT", os.path.join(REPO, "demo-out")))
#: JupyterLab settings defaults for both modes (no news pop-up, no update check).
APP_SETTINGS = os.path.join(REPO, "lab", "settings")
#: The user's own JupyterLab settings and workspaces stay in ~/.jupyter, not in this repository.
USER_SETTINGS = os.path.expanduser(os.path.join("~", ".jupyter", "lab", "user-settings"))
WORKSPACES = os.path.expanduser(os.path.join("~", ".jupyter", "lab", "workspaces"))


def lab_config(c, *, instructor):
    """The JupyterLab server settings of one mode."""
    c.ServerApp.jpserver_extensions = {name: instructor for name in INSTRUCTOR_SERVER_EXTENSIONS}
    c.LabApp.app_settings_dir = APP_SETTINGS
    if not os.environ.get("JUPYTERLAB_SETTINGS_DIR"):
        c.LabApp.user_settings_dir = USER_SETTINGS
    if not os.environ.get("JUPYTERLAB_WORKSPACES_DIR"):
        c.LabApp.workspaces_dir = WORKSPACES


#: nbgrader's server extensions; the student mode keeps only Validate and the Assignment List.
INSTRUCTOR_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
)


def exchange_config(c):
    """Course id and exchange of both modes; an empty exchange is created so the list is never an error."""
    os.makedirs(EXCHANGE, exist_ok=True)
    c.CourseDirectory.course_id = COURSE_ID
    c.Exchange.root = EXCHANGE
