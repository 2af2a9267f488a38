"""Entry point inside the sandbox: ``python -I .../cleanroom/__main__.py FD`` or ``... --zygote FD KIND``.

Run as a file (the sandbox sees this package's folder only), so it puts the folder's parent on
``sys.path`` and imports the package as ``cleanroom``; its modules import each other relatively.
"""

import os
import sys

if __name__ == "__main__":
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if sys.argv[1] == "--zygote":
        from cleanroom import zygote

        zygote.serve(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "student")
    else:
        from cleanroom import server

        server.main(int(sys.argv[1]))
