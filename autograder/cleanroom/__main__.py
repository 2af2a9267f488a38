"""Entry point inside the sandbox: ``python -I .../cleanroom/__main__.py FD`` and two other forms.

``... --zygote FD KIND`` serves as a zygote; ``... --deny-exec PROGRAM ARG...`` installs the zygote's
seccomp filter and becomes PROGRAM (found on PATH): every sandboxed program starts this way, so one
started without a zygote runs under the same filter as a forked one.

Run as a file (the sandbox sees this package's folder only), so it puts the folder's parent on
``sys.path`` and imports the package as ``cleanroom``; its modules import each other relatively.
"""

import os
import sys

if __name__ == "__main__":
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if sys.argv[1] == "--deny-exec":
        from cleanroom import zygote

        if zygote.deny_syscalls() is False:
            sys.exit("sandbox: the kernel refused the seccomp filter; not starting " + sys.argv[2])
        os.execvp(sys.argv[2], sys.argv[2:])
    elif sys.argv[1] == "--zygote":
        from cleanroom import zygote

        zygote.serve(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "student")
    else:
        from cleanroom import server

        server.main(int(sys.argv[1]))
