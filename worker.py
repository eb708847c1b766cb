"""Start a triage worker: `python worker.py` is the same as `triage worker`.

Scale out by running more of these, on as many machines as you like, against
one Redis (TRIAGE_REDIS_URL) and one PostgreSQL (TRIAGE_DATABASE_URL).
"""

import sys

from triage.cli import main

if __name__ == "__main__":
    sys.exit(main(["worker", *sys.argv[1:]]))
