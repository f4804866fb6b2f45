"""Start the web role (gunicorn.conf.py, 4 workers) on a fresh SQLite database N times (default 10) and
count the starts in which every worker served; prints the table row for docs/benchmarks.md.

    nice -n 10 python3 bench/workers_start.py [N]
"""
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ops.workers import start_and_count_serving  # noqa: E402


def main(starts: int = 10) -> None:
    served, seconds = 0, []
    for _ in range(starts):
        with tempfile.TemporaryDirectory() as folder:
            began = time.monotonic()
            pids, _log = start_and_count_serving(f"sqlite:///{folder}/fresh.db", workers=4)
            seconds.append(time.monotonic() - began)
            served += len(pids) == 4
    print(f"| 4 workers, fresh SQLite | {served} of {starts} starts served | "
          f"slowest start {max(seconds):.1f} s |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
