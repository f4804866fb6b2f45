"""Schemathesis over the app's own OpenAPI description (/api/openapi.json), as the fuzzing tests load it."""
from __future__ import annotations

import schemathesis
import schemathesis.config

# Schema-violating data must be refused with one of these. A body that breaks the schema can also be too
# large: 413 (MAX_CONTENT_LENGTH) is a proper refusal too.
REFUSALS = """
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
"""


def api_schema(app):
    """The API's schema, its requests sent straight to `app` (WSGI, no server)."""
    config = schemathesis.config.SchemathesisConfig.from_str(REFUSALS)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=config)
