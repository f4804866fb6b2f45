"""Twilio's REST API for the tests: the product's emulator (telephony/rest.py), checked against the
vendored subset of Twilio's OpenAPI spec. `FakeTwilioHttp(account_sid, clock=..., state_path=...)`
alone is the API without an emulator behind it (another process's view of a shared account)."""
from telephony.rest import RestApi, SpecViolation, parsedate_to_datetime

FakeTwilioHttp = RestApi


def client_for(fake: RestApi, auth_token: str):
    return fake.client(auth_token)


__all__ = ["FakeTwilioHttp", "RestApi", "SpecViolation", "client_for", "parsedate_to_datetime"]
