"""Schemathesis over our own OpenAPI description: whatever it sends, no 500 and no answer that breaks the schema.

Bounded (max_examples per operation) so the whole run stays well under two minutes.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.support import openapi_fuzz


@pytest.fixture
def api_schema(app):
    # The fuzzer sends far more requests than any person would; limits have their own test.
    app.config.update(CALLBACK_LIMIT_PER_IP="100000/minute", CALLBACK_LIMIT_PER_NUMBER="100000/minute",
                      CALLBACK_LIMIT_STATUS_PER_IP="100000/minute")
    return openapi_fuzz.api_schema(app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_errors_and_keeps_its_schema(case):
    # Every other check stays on, including "schema-invalid data is refused with a 4xx". Excluded:
    # "schema-valid data is accepted" - JSON Schema cannot say "a real phone number in an allowed
    # country" or "inside business hours", and those are refused with a 422 by design.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
