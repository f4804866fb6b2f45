"""Process-wide Prometheus instruments that domain code feeds (no Flask, no database here, nothing
imported from the domain): ops/metrics.py registers them in each app's registry for /metrics.

- ivr_recognition_seconds{engine}: how long an engine took to give its final result once the
  caller's utterance ended (speech/session.py), and Whisper's second pass once it was asked
  (speech/cascade.py).
- ivr_twilio_errors_total{code}: Twilio REST calls that failed, by Twilio's error code (20003 bad
  credentials, 21211 invalid number, ...), the HTTP status when Twilio gave no code, or
  "unreachable" when no answer came (callbacks/dialing.py).
- ivr_dispatch_pass_seconds: one dispatcher pass (callbacks/dispatch/serving.py), in the process that
  runs the scheduler.
"""
from __future__ import annotations

from prometheus_client import Counter, Histogram

RECOGNITION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
PASS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)

recognition_seconds = Histogram("ivr_recognition_seconds", "Time from the end of an utterance to the "
                                "engine's final result, per engine", ["engine"], buckets=RECOGNITION_BUCKETS,
                                registry=None)
twilio_errors = Counter("ivr_twilio_errors", "Twilio REST calls that failed, by Twilio error code",
                        ["code"], registry=None)
dispatch_pass_seconds = Histogram("ivr_dispatch_pass_seconds", "One dispatcher pass", buckets=PASS_BUCKETS,
                                  registry=None)

ALL = (recognition_seconds, twilio_errors, dispatch_pass_seconds)


def twilio_error(exc: BaseException) -> None:
    """Count one failed Twilio REST call (a TwilioRestException, or no answer at all)."""
    code = getattr(exc, "code", None) or getattr(exc, "status", None)
    twilio_errors.labels(str(code) if code else "unreachable").inc()
