"""How long `ivr --help` takes, against importing flask, sqlalchemy and twilio (the target: under 3x).

    nice -n 10 python bench/cli_start.py [--rounds 7]

Each figure is the median wall time of a fresh `python -c ...` process (its interpreter start included),
so the ratio is what a person typing the command sees."""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "python -c pass": "pass",
    "import flask, sqlalchemy, twilio.rest": "import flask, sqlalchemy, twilio.rest",
    "ivr --help": "from commands import cli; cli(['--help'], prog_name='ivr')",
    "ivr users --help": "from commands import cli; cli(['users', '--help'], prog_name='ivr')",
    "ivr understand classify --help": "from commands import cli; cli(['understand', 'classify', '--help'], prog_name='ivr')",
}


def timed(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    results = {name: statistics.median(timed(code) for _ in range(rounds)) for name, code in CASES.items()}
    base = results["import flask, sqlalchemy, twilio.rest"] - results["python -c pass"]
    print(f"load average {os.getloadavg()[0]:.1f}; median of {rounds} fresh processes")
    print("| command | wall time (s) | minus interpreter start (s) | x the three imports |")
    print("|---|---|---|---|")
    for name, seconds in results.items():
        own = seconds - results["python -c pass"]
        print(f"| `{name}` | {seconds:.2f} | {own:.2f} | {own / base:.1f} |")


if __name__ == "__main__":
    main()
