import tomllib

import pytest

from config import DEFAULT_IVR_CONFIG, ConfigError, Settings, parse_ivr_config


def shipped():
    with open(DEFAULT_IVR_CONFIG, "rb") as fh:
        return tomllib.load(fh)


def test_shipped_configuration_has_the_four_skills_in_two_languages():
    config = parse_ivr_config(shipped())
    assert {s: config.skills[s].digit for s in config.skills} == {"billing": "1", "support": "2", "sales": "3",
                                                                  "general": "0"}
    assert config.fallback_skill.name == "general"
    assert set(config.prompts) == {"en-US", "nl-NL"}
    assert config.language_for_number("+31201234567") == "nl-NL"
    assert config.skills["sales"].callback_offer_threshold_seconds == 45


@pytest.mark.parametrize("mutate,message", [
    (lambda raw: raw["skills"][0].update(timezone="Mars/Olympus"), "unknown time zone"),
    (lambda raw: raw["skills"][0].update(hours={"mon": "18:00-08:00"}), "close before they open"),
    (lambda raw: raw["skills"][0].update(hours={"funday": "08:00-18:00"}), "unknown day"),
    (lambda raw: raw["skills"][1].update(digit="1"), "share a digit"),
    (lambda raw: raw["prompts"]["nl-NL"].pop("goodbye"), "lack: goodbye"),
    (lambda raw: raw.update(skills=[]), "no [[skills]]"),
])
def test_configuration_mistakes_are_named(mutate, message):
    raw = shipped()
    mutate(raw)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        parse_ivr_config(raw)


def test_settings_come_from_the_environment():
    settings = Settings.from_env({"DATABASE_URL": "postgresql+psycopg://db/ivr", "TWILIO_AUTH_TOKEN": "t",
                                  "ALLOWED_COUNTRIES": "nl, be"})
    assert settings.database_url == "postgresql+psycopg://db/ivr"
    assert settings.allowed_countries == ("NL", "BE")
    assert settings.missing_for_twilio() == ["TWILIO_ACCOUNT_SID", "TWILIO_NUMBER", "PUBLIC_BASE_URL"]
