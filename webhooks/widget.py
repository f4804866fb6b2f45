"""The web button's wording: GET /api/callback-button/words?language=nl-NL answers every word
static/widget/callback-button.js shows, from the operator's IVR file (the `button_*` prompts).

Public and the same for everyone, so any page may read it (no credentials, cacheable); what a visitor
books still goes through /api/callbacks with its origin and form-token checks (webhooks/api.py)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from callbacks import waiting
from refusals import RequestRefused
from web.runtime import runtime

widget = Blueprint("callback_button", __name__, url_prefix="/api/callback-button")
CACHE_SECONDS = 300


@widget.get("/words")
def words():
    config = runtime().ivr_config
    language = request.args.get("language", config.default_language)
    if language not in config.languages:
        raise RequestRefused(f"language must be one of: {', '.join(config.languages)}", field="language",
                             code="not_allowed")
    response = jsonify({"language": language, "words": waiting.button_words(config, language)})
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response
