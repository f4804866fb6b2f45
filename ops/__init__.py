"""Running the IVR in production: liveness and readiness (health.py, http.py)."""
