"""Settings from the environment, and the operator's IVR file (config/ivr.toml).

Secrets (Twilio credentials, session keys, chat secrets) only ever come from the environment.
"""
from __future__ import annotations

import logging
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clock import Hours

ROOT = Path(__file__).resolve().parent
DEFAULT_IVR_CONFIG = ROOT / "config" / "ivr.toml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConfigError(ValueError):
    """The operator's configuration is unusable; the message says where."""


@dataclass(frozen=True)
class Skill:
    name: str
    digit: str
    timezone: ZoneInfo
    # weekday index (0 = Monday) -> (open, close) in the skill's local time, and the dates it is closed
    # all day (clock.Hours; routing.hours reads both)
    hours: Hours
    label: dict[str, str]
    phrases: dict[str, list[str]]
    callback_offer_threshold_seconds: int
    # Who is dialled first for a callback: "agent_first" (default) or "customer_first".
    callback_mode: str = "agent_first"
    # What callers say when they want this skill, per language: the skill classifier learns from them.
    examples: dict[str, list[str]] = field(default_factory=dict)
    # The dev phone's "open every team for this demo" switch (routing.hours.DemoHours), wired in by
    # create_app only while the dev phone is on; routing.hours.is_open reads it. None otherwise.
    demo_hours: object | None = field(default=None, compare=False, repr=False)

    def label_in(self, language: str) -> str:
        return self.label.get(language) or next(iter(self.label.values()), self.name)


@dataclass(frozen=True)
class IvrConfig:
    company_name: str
    default_language: str
    languages: list[str]
    language_digits: dict[str, str]
    numbers: dict[str, str]
    skills: dict[str, Skill]
    prompts: dict[str, dict[str, str]]
    hold_announce_every_seconds: int
    assumed_handle_seconds: int
    booking_horizon_days: int
    # language -> the IANA zone its listeners hear and read times in ([company] zones)
    zones: dict[str, ZoneInfo] = field(default_factory=dict)

    def zone_for(self, language: str, skill: Skill) -> ZoneInfo:
        """The zone a caller of `language` hears times in: the language's own, else the skill's."""
        return self.zones.get(language) or skill.timezone

    def skill_for_digit(self, digit: str) -> Skill | None:
        return next((s for s in self.skills.values() if s.digit == digit), None)

    @property
    def fallback_skill(self) -> Skill:
        return self.skills.get("general") or next(iter(self.skills.values()))

    def language_for_number(self, dialled: str | None) -> str:
        return self.numbers.get(dialled or "", self.default_language)

    def phrases_by_skill(self, language: str) -> dict[str, list[str]]:
        return {s.name: s.phrases.get(language, []) for s in self.skills.values()}


class Prompts:
    def __init__(self, config: IvrConfig, language: str):
        self.config = config
        self.language = language if language in config.prompts else config.default_language
        self.table = config.prompts[self.language]

    @property
    def voice(self) -> str | None:
        return self.table.get("voice")

    def text(self, key: str, **values) -> str:
        """A sentence: values may open it ("{skill}, is that right?"), and it starts with a capital."""
        text = self.fragment(key, **values)
        return text[:1].upper() + text[1:]

    def fragment(self, key: str, **values) -> str:
        """Words that go inside a sentence ("the number ending in 0 1 4 2"), as the operator wrote them."""
        return self.table[key].format(company=self.config.company_name, **values)

    def wait(self, seconds: int) -> str:
        """A wait rounded up to whole minutes, as a person would say it."""
        if seconds < 60:
            return self.table["less_than_a_minute"]
        minutes = math.ceil(seconds / 60)
        if minutes == 1:
            return self.table["minutes_one"]
        return self.table["minutes_many"].format(n=minutes)

    def reason(self, code: str) -> str:
        """Why a number or time is refused, in words: one of refusals.REASONS (an unknown code is a bug)."""
        return self.table[f"reason_{code}"]


def parse_closed(raw, skill_names) -> dict[str, dict[date, str]]:
    """The [[closed]] tables (date, name, optional skills: every skill when left out) as
    {skill: {date: name}}, refusing what makes no sense."""
    if not isinstance(raw, list):
        raise ConfigError("closed must be [[closed]] tables: date = 2026-12-25, name = \"Christmas Day\"")
    closed: dict[str, dict[date, str]] = {name: {} for name in skill_names}
    for entry in raw:
        day, name = entry.get("date"), entry.get("name")
        if isinstance(day, str):
            try:
                day = date.fromisoformat(day)
            except ValueError:
                pass
        if not isinstance(day, date) or hasattr(day, "hour"):
            raise ConfigError(f"closed: date must be a day such as 2026-12-25, not {entry.get('date')!r}")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"closed on {day.isoformat()}: give the day a name (name = \"Christmas Day\")")
        chosen = entry.get("skills", list(skill_names))
        unknown = [s for s in chosen if s not in closed] if isinstance(chosen, list) else [chosen]
        if unknown:
            raise ConfigError(f"closed on {day.isoformat()}: unknown skill {unknown[0]!r} "
                              f"(skills: {', '.join(skill_names)})")
        for skill_name in chosen:
            closed[skill_name][day] = name.strip()
    return closed


def parse_hours(raw: dict, skill_name: str = "hours") -> dict[int, tuple[time, time]]:
    """{"mon": "08:00-18:00", ...} as {0: (time(8), time(18)), ...}, refusing what makes no sense."""
    hours: dict[int, tuple[time, time]] = {}
    for day, span in raw.items():
        if day not in WEEKDAYS:
            raise ConfigError(f"skill {skill_name}: unknown day {day!r} in hours (use {', '.join(WEEKDAYS)})")
        try:
            start, end = (time.fromisoformat(part.strip()) for part in span.split("-"))
        except ValueError as exc:
            raise ConfigError(f"skill {skill_name}: hours for {day} must look like 08:00-18:00, not {span!r}") from exc
        if end <= start:
            raise ConfigError(f"skill {skill_name}: hours for {day} close before they open ({span})")
        hours[WEEKDAYS.index(day)] = (start, end)
    return hours


# Fewer examples than this per skill and language cannot teach the classifier a skill (40+ work well).
MIN_EXAMPLES = 20


def _example_key(text: str) -> str:
    """Examples that differ only in case, punctuation or spacing are the same example."""
    return " ".join(re.findall(r"\w+", text.lower()))


def _examples(skill_name: str, raw) -> dict[str, list[str]]:
    if not isinstance(raw, dict) or not all(isinstance(texts, list) and all(isinstance(t, str) and t.strip()
                                                                             for t in texts)
                                            for texts in raw.values()):
        raise ConfigError(f"skill {skill_name}: examples must be a table of language = [\"utterance\", ...]")
    return {lang: [t.strip() for t in texts] for lang, texts in raw.items()}


def validate_examples(skills, languages) -> None:
    """Every skill has enough examples in every language, only in those languages, and no example
    (or phrase) teaches two skills. Raises ConfigError naming the first problem."""
    seen: dict[tuple[str, str], str] = {}
    for skill in skills:
        for lang in skill.examples:
            if lang not in languages:
                raise ConfigError(f"skill {skill.name}: examples for {lang}, which is not one of the languages "
                                  f"({', '.join(languages)})")
        for lang in languages:
            count = len(skill.examples.get(lang, []))
            if count < MIN_EXAMPLES:
                raise ConfigError(f"skill {skill.name}: {count} examples for {lang}; at least {MIN_EXAMPLES} are "
                                  f"needed (40 or more varied ones work well)")
            for text in skill.examples.get(lang, []) + skill.phrases.get(lang, []):
                other = seen.setdefault((lang, _example_key(text)), skill.name)
                if other != skill.name:
                    raise ConfigError(f"{text!r} ({lang}) is an example of both {other} and {skill.name}; "
                                      f"keep it in one skill")


def _callback_mode(skill_name: str, mode: str) -> str:
    if mode not in ("agent_first", "customer_first"):
        raise ConfigError(f"skill {skill_name}: callback_mode must be agent_first or customer_first, not {mode!r}")
    return mode


def parse_ivr_config(raw: dict) -> IvrConfig:
    company = raw.get("company", {})
    defaults = raw.get("defaults", {})
    languages = company.get("languages", ["en-US"])
    threshold = int(defaults.get("callback_offer_threshold_seconds", 60))
    skills: dict[str, Skill] = {}
    for entry in raw.get("skills", []):
        name = entry["name"]
        try:
            zone = ZoneInfo(entry.get("timezone", "UTC"))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"skill {name}: unknown time zone {entry.get('timezone')!r}") from exc
        skills[name] = Skill(
            name=name,
            digit=str(entry["digit"]),
            timezone=zone,
            hours=parse_hours(entry.get("hours", {}), name),
            label=dict(entry.get("label", {name: name})),
            phrases={lang: list(p) for lang, p in entry.get("phrases", {}).items()},
            callback_offer_threshold_seconds=int(entry.get("callback_offer_threshold_seconds", threshold)),
            callback_mode=_callback_mode(name, entry.get("callback_mode", defaults.get("callback_mode", "agent_first"))),
            examples=_examples(name, entry.get("examples", {})),
        )
    if not skills:
        raise ConfigError("the IVR configuration defines no [[skills]]")
    closed = parse_closed(raw.get("closed", []), list(skills))
    skills = {name: replace(skill, hours=Hours(skill.hours, closed[name])) for name, skill in skills.items()}
    validate_examples(skills.values(), languages)
    digits = [s.digit for s in skills.values()]
    if len(set(digits)) != len(digits):
        raise ConfigError(f"two skills share a digit: {digits}")
    prompts = raw.get("prompts", {})
    for lang in languages:
        if lang not in prompts:
            raise ConfigError(f"language {lang} is listed but has no [prompts.\"{lang}\"] table")
    for lang in languages[1:]:
        gap = set(prompts[languages[0]]) - set(prompts[lang])
        if gap:
            raise ConfigError(f"prompts for {lang} lack: {', '.join(sorted(gap))}")
    return IvrConfig(
        company_name=company.get("name", "us"),
        default_language=company.get("default_language", languages[0]),
        languages=languages,
        language_digits=dict(company.get("language_digits", {})),
        numbers=dict(raw.get("numbers", {})),
        skills=skills,
        prompts=prompts,
        hold_announce_every_seconds=int(defaults.get("hold_announce_every_seconds", 30)),
        assumed_handle_seconds=int(defaults.get("assumed_handle_seconds", 240)),
        booking_horizon_days=int(defaults.get("booking_horizon_days", 14)),
        zones=_zones(company.get("zones", {}), languages),
    )


def _zones(raw: dict, languages: list[str]) -> dict[str, ZoneInfo]:
    zones = {}
    for lang, name in raw.items():
        if lang not in languages:
            raise ConfigError(f"[company] zones names {lang}, which is not one of the languages ({', '.join(languages)})")
        try:
            zones[lang] = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"[company] zones: unknown time zone {name!r} for {lang}") from exc
    return zones


@lru_cache(maxsize=8)
def load_ivr_config(path: str | None = None) -> IvrConfig:
    path = path or os.environ.get("IVR_CONFIG") or str(DEFAULT_IVR_CONFIG)
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"IVR configuration not found at {path} (set IVR_CONFIG)") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if Path(path).resolve() != DEFAULT_IVR_CONFIG.resolve():
        raw = with_shipped_wording(raw, str(path))
    return parse_ivr_config(raw)


def with_shipped_wording(raw: dict, path: str) -> dict:
    """An operator's own IVR file written for an older release lacks the wording added since: each missing
    key is taken from the shipped file (its language's, else the first shipped language's) and named in a
    warning at start-up, so a page or a call never fails on a key the file does not have."""
    with open(DEFAULT_IVR_CONFIG, "rb") as fh:
        shipped = tomllib.load(fh).get("prompts", {})
    if not shipped or not isinstance(raw.get("prompts"), dict):
        return raw
    fallback = next(iter(shipped.values()))
    prompts = dict(raw["prompts"])
    for lang, table in prompts.items():
        if not isinstance(table, dict):
            continue
        source = shipped.get(lang, fallback)
        missing = sorted(key for key in source if key not in table)
        if missing:
            logging.getLogger(__name__).warning(
                "%s: [prompts.\"%s\"] lacks %d key(s), the shipped wording is used for them: %s",
                path, lang, len(missing), ", ".join(missing))
            prompts[lang] = {**{key: source[key] for key in missing}, **table}
    return {**raw, "prompts": prompts}


def _names(env, name: str) -> tuple[str, ...]:
    """A comma-separated list from the environment, trimmed and lower-cased."""
    return tuple(item.strip().lower() for item in (env.get(name) or "").split(",") if item.strip())


def _whole_number(env, name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number (0 or more), not {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class Settings:
    """Process settings. Everything here comes from the environment."""

    database_url: str = f"sqlite:///{ROOT / 'instance' / 'ivr.sqlite3'}"
    public_base_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_number: str | None = None
    twilio_messaging_number: str | None = None
    secret_key: str | None = None
    ivr_config_path: str | None = None
    allowed_countries: tuple[str, ...] = ("US", "CA", "NL", "BE", "DE", "GB")
    # Speech steps (Vosk / PocketSphinx over Media Streams); off means keypad-only prompts.
    speech_enabled: bool = True
    # DEV_PHONE: on or off; unset means on without PUBLIC_BASE_URL (development), off with it (devphone/).
    dev_phone: str | None = None
    host: str = "127.0.0.1"
    port: int = 5000
    # How many proxies in front of the app may set X-Forwarded-For/-Proto/-Host (0: none, the peer is the client).
    trusted_proxy_hops: int = 0
    # Hosts (host or host:port) whose URLs Twilio may sign when PUBLIC_BASE_URL is not set.
    twilio_webhook_hosts: tuple[str, ...] = ()
    # phonenumbers number types we agree to dial (callbacks and agents); pagers, personal, VoIP, UAN,
    # premium and shared-cost ranges are toll-fraud paths and stay refused unless listed here.
    dial_number_kinds: tuple[str, ...] = ("fixed_line", "mobile", "fixed_line_or_mobile", "toll_free")
    # Domains agents' SIP addresses may point at (sip:alice@pbx.example.com needs pbx.example.com here).
    agent_sip_domains: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict | None = None) -> "Settings":
        env = os.environ if env is None else env
        defaults = cls()
        countries = env.get("ALLOWED_COUNTRIES")
        return cls(
            database_url=env.get("DATABASE_URL", defaults.database_url),
            public_base_url=(env.get("PUBLIC_BASE_URL") or None),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            twilio_number=env.get("TWILIO_NUMBER") or None,
            twilio_messaging_number=env.get("TWILIO_MESSAGING_NUMBER") or None,
            secret_key=env.get("SECRET_KEY") or None,
            ivr_config_path=env.get("IVR_CONFIG") or None,
            allowed_countries=tuple(c.strip().upper() for c in countries.split(",") if c.strip())
            if countries
            else defaults.allowed_countries,
            speech_enabled=env.get("SPEECH_ENABLED", "1").strip().lower() not in {"0", "false", "off", "no"},
            dev_phone=(env.get("DEV_PHONE") or "").strip().lower() or None,
            host=env.get("HOST", defaults.host),
            port=int(env.get("PORT", defaults.port)),
            trusted_proxy_hops=_whole_number(env, "TRUSTED_PROXY_HOPS", defaults.trusted_proxy_hops),
            twilio_webhook_hosts=_names(env, "TWILIO_WEBHOOK_HOSTS") or defaults.twilio_webhook_hosts,
            dial_number_kinds=_names(env, "DIAL_NUMBER_KINDS") or defaults.dial_number_kinds,
            agent_sip_domains=_names(env, "AGENT_SIP_DOMAINS") or defaults.agent_sip_domains,
        )

    def missing_for_twilio(self) -> list[str]:
        needed = {
            "TWILIO_ACCOUNT_SID": self.twilio_account_sid,
            "TWILIO_AUTH_TOKEN": self.twilio_auth_token,
            "TWILIO_NUMBER": self.twilio_number,
            "PUBLIC_BASE_URL": self.public_base_url,
        }
        return [name for name, value in needed.items() if not value]


RETRY_OUTCOMES = ("no-answer", "busy", "machine")
RETRY_IN_WINDOW_DEFAULT = {"no-answer": 120, "busy": 120, "machine": 180}
MIN_RETRY_SECONDS = 60  # a customer is never rung again within a minute of a missed call


def retry_in_window(text: str | None) -> dict:
    """CALLBACK_RETRY_IN_WINDOW_SECONDS: "120" (every outcome), "no-answer=120,busy=90,machine=300"
    (outcomes left out are not retried early), or "off"/"0". Unset: the default. Each at least a minute."""
    if text is None or not text.strip():
        return dict(RETRY_IN_WINDOW_DEFAULT)
    text = text.strip().lower()
    if text in ("off", "0", "no", "false"):
        return {}
    if "=" not in text:
        return {o: max(MIN_RETRY_SECONDS, int(text)) for o in RETRY_OUTCOMES}
    out = {}
    for part in text.split(","):
        outcome, _, seconds = part.partition("=")
        outcome = outcome.strip()
        if outcome not in RETRY_OUTCOMES:
            raise ValueError(f"CALLBACK_RETRY_IN_WINDOW_SECONDS: unknown outcome {outcome!r} "
                             f"(one of {', '.join(RETRY_OUTCOMES)})")
        if int(seconds) > 0:
            out[outcome] = max(MIN_RETRY_SECONDS, int(seconds))
    return out


def _switch(env, name: str, default: str = "on") -> bool:
    return (env.get(name) or default).strip().lower() not in ("0", "off", "false", "no")


@dataclass(frozen=True)
class DispatchSettings:
    """The callback dispatcher's settings (environment). Per-skill callback_mode lives in the IVR file."""

    calls_per_second: float = 1.0
    retry_delay_seconds: int = 600
    # CALLBACK_RETRY_IN_WINDOW_SECONDS: after no answer, busy or an answering machine, try again this
    # soon when that still keeps the window the customer was told (retry.py); per outcome, in seconds,
    # at least a minute; empty: off (the long delay and a new time told, as before).
    retry_in_window: dict = field(default_factory=lambda: dict(RETRY_IN_WINDOW_DEFAULT))
    max_attempts: int = 3
    early_window_seconds: int = 60
    agent_ring_seconds: int = 20
    # A claim with no call SID after this long is reconciled with Twilio's call list.
    reconcile_after_seconds: int = 60
    voicemail_text: str | None = None  # CALLBACK_VOICEMAIL_TEXT; unset: callback_voicemail from the IVR file
    sms: bool = True

    @classmethod
    def from_env(cls, env: dict | None = None) -> "DispatchSettings":
        env = os.environ if env is None else env
        d = cls()
        return cls(
            calls_per_second=float(env.get("DISPATCH_CALLS_PER_SECOND", d.calls_per_second)),
            retry_delay_seconds=int(env.get("CALLBACK_RETRY_DELAY_SECONDS", d.retry_delay_seconds)),
            retry_in_window=retry_in_window(env.get("CALLBACK_RETRY_IN_WINDOW_SECONDS")),
            max_attempts=int(env.get("CALLBACK_MAX_ATTEMPTS", d.max_attempts)),
            early_window_seconds=int(env.get("CALLBACK_EARLY_WINDOW_SECONDS", d.early_window_seconds)),
            agent_ring_seconds=int(env.get("AGENT_RING_SECONDS", d.agent_ring_seconds)),
            reconcile_after_seconds=int(env.get("DISPATCH_RECONCILE_AFTER_SECONDS", d.reconcile_after_seconds)),
            voicemail_text=env.get("CALLBACK_VOICEMAIL_TEXT") or d.voicemail_text,
            sms=_switch(env, "CALLBACK_SMS"),
        )
