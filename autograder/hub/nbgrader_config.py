"""nbgrader configuration for a course on a JupyterHub: every user's server reads this file.

Install it system-wide, where every single-user server finds it, e.g. ``/etc/jupyter/nbgrader_config.py``
(or a folder on the servers' ``JUPYTER_CONFIG_PATH``), and set the three values below, or export
``COURSE_ID``, ``EXCHANGE_ROOT`` and ``COURSE_TIMEZONE`` in the servers' environment.

- ``course_id``: the course's folder in the exchange. A student's Assignment List shows this course's
  assignments; with no course id it shows every course in the exchange, or none.
- ``Exchange.root``: a folder every user's server sees at the same path (local disk on a single-machine
  hub, a shared volume on Kubernetes), mode 777. nbgrader creates under it ``<course_id>/outbound`` (755:
  students list and fetch), ``inbound`` (2733: students create their submission but cannot list anyone's)
  and ``feedback`` (711: a student can read a feedback file only by the name computed from the secret
  of their own submission). A missing root is what makes the Assignment List say "exchange directory does
  not exist": create it once with ``sudo mkdir -p ROOT && sudo chmod 777 ROOT``.
- ``Exchange.timezone``: the time zone of submission timestamps. Due dates carry their own zone
  (``autograder collect A --due "2026-12-01 17:00:00 Europe/Berlin"``) and are compared in UTC.

The instructor's commands read the same file (and ``~/.jupyter/nbgrader_config.py``); check both with
``autograder doctor --course COURSE_ROOT``.
"""

import os

c = get_config()  # noqa: F821 - injected by traitlets when it loads this file

c.CourseDirectory.course_id = os.environ.get("COURSE_ID", "vanishing-gradients")
c.Exchange.root = os.environ.get("EXCHANGE_ROOT", "/srv/nbgrader/exchange")
c.Exchange.timezone = os.environ.get("COURSE_TIMEZONE", "UTC")
# The course's folder layout (the instructor's course root): solutions/ in, course/ out.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
# Warn when a collected submission is not owned by the student it names.
c.ExchangeCollect.check_owner = True
