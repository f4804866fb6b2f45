"""The time on the network: virtual in the stepped driver (moved on by what each call waits for), real
in the live one (from when it started)."""
from __future__ import annotations

import math
import time


class NetworkTime:
    def __init__(self):
        self.live = False
        self._virtual = 0.0
        self._t0 = time.monotonic()

    def now(self) -> float:
        """Seconds on the network."""
        return time.monotonic() - self._t0 if self.live else self._virtual

    def advance(self, seconds: float) -> None:
        """The stepped driver moves virtual time on (nothing moves real time)."""
        if not self.live and math.isfinite(seconds):
            self._virtual += seconds

    def start_real_time(self) -> None:
        """The live driver started: from now on, real seconds since this moment."""
        self.live = True
        self._t0 = time.monotonic()
