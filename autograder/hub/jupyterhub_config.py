"""JupyterHub configuration for this course: local system users, one single-user server each, nbgrader.

Run it as root (the local process spawner starts each server as its user):
``jupyterhub -f autograder/hub/jupyterhub_config.py``. Everything is set from the environment, so the same
file serves a university machine, ``make classroom`` and the test suite:

=========================  =================================================================================
``COURSE_HUB_URL``         where the hub listens (default ``http://127.0.0.1:8000``; put TLS in front of it)
``COURSE_HUB_STATE``       folder for the hub's database, cookie secret and proxy pid (default: cwd)
``COURSE_INSTRUCTORS``     comma-separated user names of the instructors (hub admins)
``COURSE_STUDENTS``        comma-separated user names of the students (empty: any user who can log in)
``COURSE_PASSWORDS``       a JSON file ``{"user": "password"}``: log in with these passwords instead of the
                           system's (PAM); for a classroom to try by hand, and for the tests
``COURSE_USER_PYTHON``     the Python that runs each user's server and kernels (default: this one); every
                           user must be able to execute it and import nbgrader, jupyterlab and gradlib
``COURSE_JUPYTER_CONFIG``  a folder holding the students' ``nbgrader_config.py`` (see the file of that name
                           beside this one), added to every server's ``JUPYTER_CONFIG_PATH``; not needed
                           when that file is in ``/etc/jupyter``
``COURSE_HUB_API_TOKEN``   a token for a ``course-admin`` service allowed to start servers and call them
``COURSE_PROXY``           the ``configurable-http-proxy`` command (default: ``.venv/node/...`` or PATH)
=========================  =================================================================================

Students get the Assignment List (fetch, validate, submit, fetch feedback); nbgrader's formgrader is
switched off in their servers; instructors grade with ``autograder``.
"""

import hmac
import json
import os
import shutil
import sys
from pathlib import Path

from jupyterhub.auth import Authenticator
from traitlets import Dict

c = get_config()  # noqa: F821 - injected by traitlets when it loads this file

_env = os.environ.get
_repo = Path(__file__).resolve().parents[2]
_state = Path(_env("COURSE_HUB_STATE", os.getcwd()))
_python = _env("COURSE_USER_PYTHON", sys.executable)
_instructors = {u for u in _env("COURSE_INSTRUCTORS", "").split(",") if u}
_students = {u for u in _env("COURSE_STUDENTS", "").split(",") if u}


class CoursePasswordAuthenticator(Authenticator):
    """Each user logs in with their own password from ``COURSE_PASSWORDS``; nobody else gets in."""

    passwords = Dict(config=True, help="user name -> password")

    async def authenticate(self, handler, data):
        """The user name when the password is that user's, else None."""
        expected = self.passwords.get(data.get("username", ""))
        if expected and hmac.compare_digest(expected.encode(), data.get("password", "").encode()):
            return data["username"]
        return None


c.JupyterHub.bind_url = _env("COURSE_HUB_URL", "http://127.0.0.1:8000")
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.db_url = "sqlite:///" + str(_state / "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = str(_state / "jupyterhub_cookie_secret")
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.JupyterHub.cleanup_servers = True
c.ConfigurableHTTPProxy.pid_file = str(_state / "proxy.pid")
_proxy = _env("COURSE_PROXY") or str(_repo / ".venv/node/node_modules/.bin/configurable-http-proxy")
c.ConfigurableHTTPProxy.command = [
    _proxy if Path(_proxy).exists() else shutil.which("configurable-http-proxy") or _proxy
]

if _env("COURSE_PASSWORDS"):
    c.JupyterHub.authenticator_class = CoursePasswordAuthenticator
    c.CoursePasswordAuthenticator.passwords = json.loads(Path(_env("COURSE_PASSWORDS")).read_text())
else:
    c.JupyterHub.authenticator_class = "jupyterhub.auth.PAMAuthenticator"
if _students:
    c.Authenticator.allowed_users = _students | _instructors
else:
    c.Authenticator.allow_all = True
c.Authenticator.admin_users = _instructors

if _env("COURSE_HUB_API_TOKEN"):
    c.JupyterHub.services = [{"name": "course-admin", "api_token": _env("COURSE_HUB_API_TOKEN")}]
    c.JupyterHub.load_roles = [
        {
            "name": "course-admin",
            "scopes": ["admin:users", "admin:servers", "access:servers", "read:users"],
            "services": ["course-admin"],
        }
    ]

# Each user's server: their Python, JupyterLab, the course's nbgrader config, the home folder as root.
c.Spawner.cmd = [_python, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
_venv = Path(sys.prefix)
_config_path = [p for p in [_env("COURSE_JUPYTER_CONFIG"), str(_venv / "etc" / "jupyter")] if p]
_data_path = [str(_venv / "share" / "jupyter")]
# Students do not grade: nbgrader's formgrader server extension is off in their servers.
_student_off = json.dumps(
    {"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": False}}}
)


def _pre_spawn(spawner):
    """Point the server at the course's config; switch the grading tools off for students."""
    env = spawner.environment = dict(spawner.environment)
    paths = list(_config_path)
    if spawner.user.name not in _instructors:
        students_dir = _state / "student-config"
        students_dir.mkdir(exist_ok=True)
        (students_dir / "jupyter_server_config.json").write_text(_student_off)
        students_dir.chmod(0o755)
        paths.insert(0, str(students_dir))
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    env["JUPYTER_PATH"] = os.pathsep.join(_data_path)
    env["PATH"] = os.pathsep.join([str(Path(_python).parent), "/usr/local/bin", "/usr/bin", "/bin"])
    for key in ("COURSE_ID", "EXCHANGE_ROOT", "COURSE_TIMEZONE"):
        if _env(key):
            env[key] = _env(key)


c.Spawner.pre_spawn_hook = _pre_spawn
