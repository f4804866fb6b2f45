"""The small contract every speech engine meets.

An Engine is loaded once per process (models are large) and shared by all
calls; it makes one Recognizer per stream. A Recognizer is fed 16-bit PCM at
the sample rate it was made for and is used by one thread at a time.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence


@dataclass(frozen=True)
class Hypothesis:
    """What an engine heard so far (`final=False`) or for a whole utterance."""

    transcript: str
    confidence: float  # 0..1; engines without a real score report 1.0 for a non-empty result
    engine: str
    final: bool = False

    @property
    def empty(self) -> bool:
        return not self.transcript.strip()


class Recognizer(Protocol):
    sample_rate: int

    def accept(self, pcm16: bytes) -> Hypothesis:
        """Feed audio. Returns a final hypothesis when the engine itself detected
        the end of an utterance, else an empty non-final one (asking the engine
        for its partial words every 20 ms frame costs more than decoding)."""

    def partial(self) -> Hypothesis:
        """The words so far (non-final), on request."""

    def finish(self) -> Hypothesis:
        """No more audio: return the final hypothesis for what was fed."""

    def close(self) -> None:
        """Release what the recognizer holds (a pooled decoder), result or not."""


class Engine(Protocol):
    name: str
    language: str

    def recognizer(self, sample_rate: int, phrases: Sequence[str] | None = None) -> Recognizer:
        """A recognizer for one stream. `phrases` restricts recognition to a
        grammar (plus an unknown-word token); None means free-form."""

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        """Words of `phrases` the engine's vocabulary lacks (they cannot be heard)."""


class EngineUnavailable(RuntimeError):
    """No engine could be loaded (model missing or broken)."""
