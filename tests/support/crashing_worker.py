"""A speech worker that dies before it is ready, as one whose model cannot load (tests/speech/test_pool.py)."""
import sys

sys.exit(3)
