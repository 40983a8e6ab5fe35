"""The severity matrix: business impact, breadth, workaround, data integrity, cosmetics.

Every step that changes or fixes the level appends a human-readable reason. Stdlib only.
"""
from __future__ import annotations

import re

from bot.triage.text import LITERAL_SCAN_MIN, literal_positions


__all__ = ["SEVERITIES", "BUG_LIKE", "severity_for", "stated_harm"]

SEVERITIES = ("critical", "high", "medium", "low")
BUG_LIKE = ("bug", "performance", "usability", "integration", "data")
_LOW_BY_DEFAULT = ("feature_request", "question", "documentation")
SCAN_CHARS = 600           # impact words are looked for in the first 600 characters (title first)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)         # lower-case patterns, matched on lower-cased text


def _holds_any(text: str, literals: tuple[str, ...]) -> bool:
    for lit in literals:
        if lit in text:
            return True
    return False


_OUTAGE = _rx(r"\b(?:outage|is down|are down|went down|goes down|site down|app down|service down|"
              r"down for (?:everyone|everybody|all|us)|(?:5\d\ds?|errors?) (?:errors? )?(?:everywhere|for "
              r"(?:everyone|everybody|all))|(?:everything|entire (?:site|app)|whole (?:site|app)) is (?:down|"
              r"broken)|nobody can|no one can|unreachable|not loading for anyone)\b")
_PAYMENT = _rx(r"\b(?:payments?|checkout|check-out|billing|invoic\w*|charg(?:e|es|ed|ing)|refunds?|"
               r"subscriptions?|purchas\w*|pay|card (?:was )?declined|stripe|paypal|transactions?|orders? "
               r"(?:fail\w*|not going through))\b")
_AUTH = _rx(r"\b(?:log ?in|logins|log(?:ging)? in|sign(?:ing)? ?in|auth\w*|sso|oauth|saml|password "
            r"reset|2fa|mfa|locked out|sessions? (?:expire|drop|lost)\w*)\b")
_AUTH_BROKEN = _rx(r"\b(?:(?:gets?|getting|got|being|are|is|keeps? getting) (?:logged|kicked|signed) out|"
                   r"(?:can'?t|cannot|unable to|could not|couldn'?t) (?:log|sign) ?in|locked out)\b")
_FAILING = _rx(r"\b(?:fail\w*|never (?:arrives?|arrived|loads?|comes?|shows?|works?|completes?)|"
               r"not arriving|broken|break\w*|down|error\w*|declin\w*|not working|doesn'?t work|does not "
               r"work|won'?t|can'?t|cannot|unable|impossible|stuck|5\d\d|crash\w*|nothing happens|does "
               r"nothing|not going through|rejected|timed? ?out|times out)\b")
_ALL = _rx(r"\b(?:everyone|everybody|all (?:users|customers|payments|orders|regions|accounts|of us)|every "
           r"(?:user|customer|payment|order)|nobody|no one|for all|100 ?%|entire|whole (?:site|app|company)|"
           r"company[- ]wide|globally)\b")
_DATA_LOSS = _rx(r"\b(?:(?:data|records|orders|files|history)\b[^.!?\n]{0,30}\b(?:is|are|was|were|got|has "
                 r"been|have been) (?:gone|deleted|wiped|erased|lost)|data loss|"
                 r"los(?:t|ing|e) (?:(?:all|my|our|their|the|customer|some) ){0,2}(?:data|work|records|"
                 r"orders|changes|files|entries|history)|(?:data|records|orders|files) (?:were |was |"
                 r"got |are "
                 r")?(?:deleted|wiped|erased|gone|lost)|wiped|deleted everything)\b")
_LEAK = _rx(r"\b(?:data leak|leak\w*|exposed|exposure|security|vulnerab\w*|xss|sql injection|csrf|"
            r"(?:someone|somebody) else'?s|other (?:users?|customers?|people)'?s? (?:data|orders|accounts?|"
            r"invoices|emails?|details)|unauthori[sz]ed|privacy|pii|gdpr|breach)\b")
_INTEGRITY = _rx(r"\b(?:(?:wrong|incorrect|bad|inconsistent|mismatch\w*) (?:totals?|amounts?|"
                 r"numbers?|prices?|"
                 r"balances?|counts?|values?|sums?|data|figures|tax|vat|currency|dates?)|corrupt\w*|"
                 r"duplicat\w* (?:charges?|orders?|records?|rows?|entries|payments?)|"
                 r"double[- ]charg\w*|charged "
                 r"twice|(?:totals?|numbers?|amounts?|balances?) (?:are|is|don'?t|do not) (?:wrong|off|"
                 r"incorrect|match|add up))\b")
_COSMETIC = _rx(r"\b(?:typo\w*|spelling|misspel\w*|cosmetic|misaligned|alignment|colou?rs?|fonts?|padding|"
                r"margins?|pixel\w*|icons?|wording|capitali[sz]\w*|grammar|off by a few pixels|"
                r"looks (?:weird|"
                r"odd|off)|truncated label)\b")
_WORKAROUND = _rx(r"\b(?:workaround|work-around|work around|can still|still able to|refresh\w* (?:fixes|"
                  r"helps|solves)|reload\w* (?:fixes|helps)|retry\w* (?:works|fixes|helps)|"
                  r"works (?:after|on) "
                  r"(?:a )?(?:refresh|reload|retry|second try)|fixed by (?:refreshing|reloading|retrying)|"
                  r"temporar(?:y|ily) fix)\b")
_SOME = _rx(r"\b(?:some|a few|several|certain|one|a couple of|intermittent\w*|sometimes|occasionally)\b")


def _first(rx: re.Pattern[str], text: str) -> str | None:
    gate = GATES.get(rx.pattern)
    if gate is not None and not _holds_any(text, gate):   # `in` stops at the first literal found
        return None
    lits = START_LITERALS.get(rx.pattern) if len(text) >= LITERAL_SCAN_MIN else None
    m = _leftmost(rx, lits, text) if lits is not None else rx.search(text)
    return m.group(0).lower() if m else None


def _leftmost(rx: re.Pattern[str], lits: tuple[str, ...], text: str) -> re.Match[str] | None:
    """rx.search(text), trying rx only where one of its start literals occurs (the leftmost such
    position at which it matches is where a scan finds its first match)."""
    at = literal_positions(text, lits)
    for pos in sorted(at):
        m = rx.match(text, pos)
        if m is not None:
            return m
    return None


# Hand-listed literal gates: every match of the pattern contains one of these strings (checked by
# tests/test_triage_literals.py), so a text without any skips the scan (a few C substring
# searches instead of a regex pass over 600 characters)
GATES: dict[str, tuple[str, ...]] = {
    _OUTAGE.pattern: ("outage", "down", "5", "error", "everything", "entire", "whole", "nobody", "no one",
                      "unreachable", "not loading"),
    _PAYMENT.pattern: ("pay", "checkout", "check-out", "billing", "invoic", "charg", "refund", "subscription",
                       "purchas", "card", "stripe", "transaction", "order"),
    _AUTH.pattern: ("log", "sign", "auth", "sso", "saml", "password", "2fa", "mfa", "locked", "session"),
    _AUTH_BROKEN.pattern: ("out", "log", "sign"),
    _ALL.pattern: ("every", "all", "nobody", "no one", "100", "entire", "whole", "company", "global"),
    _DATA_LOSS.pattern: ("data", "record", "order", "file", "history", "wiped", "deleted", "los"),
    _LEAK.pattern: ("leak", "expos", "security", "vulnerab", "xss", "sql injection", "csrf", "else", "other",
                    "unauthori", "privacy", "pii", "gdpr", "breach"),
    _INTEGRITY.pattern: ("wrong", "incorrect", "bad", "inconsistent", "mismatch", "corrupt", "duplicat", "double",
                         "twice", "total", "number", "amount", "balance"),
    _COSMETIC.pattern: ("typo", "spelling", "misspel", "cosmetic", "misaligned", "alignment", "colo", "font",
                        "padding", "margin", "pixel", "icon", "wording", "capitali", "grammar", "looks",
                        "truncated label"),
    _WORKAROUND.pattern: ("workaround", "work-around", "work around", "can still", "still able", "refresh",
                          "reload", "retry", "works ", "fixed by", "temporar"),
}


# Hand-listed start literals: every position at which the pattern matches starts with one of these
# (checked at every matching position by tests/test_triage_literals.py), so the pattern is tried
# only there: a pattern that starts with \b makes `re` try every position of the text.
START_LITERALS: dict[str, tuple[str, ...]] = {
    _OUTAGE.pattern: ("outage", "is down", "are down", "went down", "goes down", "site down", "app down", "service down",
                      "down for", "5", "error", "everything", "entire ", "whole ", "nobody can", "no one can",
                      "unreachable", "not loading"),
    _PAYMENT.pattern: ("pay", "checkout", "check-out", "billing", "invoic", "charg", "refund", "subscription", "purchas",
                       "card ", "stripe", "transaction", "order"),
    _AUTH.pattern: ("log", "sign", "auth", "sso", "oauth", "saml", "password reset", "2fa", "mfa", "locked out", "session"),
    _AUTH_BROKEN.pattern: ("get", "got ", "being ", "are ", "is ", "keep", "can", "unable to", "could", "locked out"),
    _FAILING.pattern: ("fail", "never ", "not arriving", "broken", "break", "down", "error", "declin", "not working",
                       "doesn", "does not work", "won", "can", "unable", "impossible", "stuck", "5", "crash",
                       "nothing happens", "does nothing", "not going through", "rejected", "time"),
    _ALL.pattern: ("every", "all ", "nobody", "no one", "for all", "100", "entire", "whole ", "company", "globally"),
    _DATA_LOSS.pattern: ("data", "records", "orders", "files", "history", "los", "wiped", "deleted everything"),
    _LEAK.pattern: ("data leak", "leak", "expos", "security", "vulnerab", "xss", "sql injection", "csrf", "someone",
                    "somebody", "other ", "unauthori", "privacy", "pii", "gdpr", "breach"),
    _INTEGRITY.pattern: ("wrong ", "incorrect ", "bad ", "inconsistent ", "mismatch", "corrupt", "duplicat", "double",
                         "charged twice", "total", "number", "amount", "balance"),
    _COSMETIC.pattern: ("typo", "spelling", "misspel", "cosmetic", "misaligned", "alignment", "colo", "font", "padding",
                        "margin", "pixel", "icon", "wording", "capitali", "grammar", "off by", "looks ",
                        "truncated label"),
    _WORKAROUND.pattern: ("work", "can still", "still able", "refresh", "reload", "retry", "fixed by", "temporar"),
}


def _shift(level: str, by: int) -> str:
    i = SEVERITIES.index(level) - by
    return SEVERITIES[max(0, min(len(SEVERITIES) - 1, i))]


def stated_harm(text: str) -> str | None:
    """The phrase of lower-cased `text` that states harm done (an outage, lost data, another
    account's data shown), or None: a message that states one describes a problem, however it is
    phrased. Security words alone ("security", "privacy") are not harm: requests use them too."""
    text = text[:SCAN_CHARS]
    if hit := _first(_OUTAGE, text) or _first(_DATA_LOSS, text):
        return hit
    hit = _first(_LEAK, text)
    return hit if hit and hit.startswith(("someone", "somebody", "other ")) else None


def severity_for(*, category: str, text: str, affected_count: int) -> tuple[str, list[str]]:
    """(severity, reasons) for a report of `category` whose text is `text`, seen by `affected_count` people."""
    reasons: list[str] = []
    if category in _LOW_BY_DEFAULT:
        label = {"feature_request": "feature requests", "question": "questions"}.get(category, category)
        reasons.append(f"severity low: {label} default to low")
        if affected_count >= 3:
            reasons.append(f"{affected_count} people asked (breadth noted; requests and questions stay low)")
        return "low", reasons

    text = text[:SCAN_CHARS].lower()
    level = "medium"
    floor = "low"
    failing = _first(_FAILING, text)
    every = _first(_ALL, text)
    if (hit := _first(_OUTAGE, text)) or (every and failing and not _first(_PAYMENT, text)
                                          and re.search(r"\b(?:site|app|service|page|everything|"
                                                        r"api)\b", text)):
        level = "critical"
        reasons.append(f"severity critical: outage (mentions '{hit or every + ' … ' + failing}')")
    elif hit := _first(_DATA_LOSS, text):
        level = "critical"
        reasons.append(f"severity critical: data loss (mentions '{hit}')")
    elif hit := _first(_LEAK, text):
        level = "critical"
        reasons.append(f"severity critical: data leak / security (mentions '{hit}')")
    elif (pay := _first(_PAYMENT, text)) and failing:
        if every:
            level = "critical"
            reasons.append(f"severity critical: payments failing for all (mentions '{pay}' … '{failing}' … '{every}')")
        else:
            level = "high"
            reasons.append(f"severity high: payments failing for some (mentions '{pay}' … '{failing}', "
                           "business impact)")
    elif ((auth := _first(_AUTH, text)) and failing) or (auth := _first(_AUTH_BROKEN, text)):
        level = "high"
        said = f"'{auth}' … '{failing}'" if failing and auth not in failing else f"'{auth}'"
        reasons.append(f"severity high: login/auth failure (mentions {said}, business impact)")
    if hit := _first(_INTEGRITY, text):
        floor = "high"
        if SEVERITIES.index(level) > SEVERITIES.index("high"):
            level = "high"
        reasons.append(f"severity at least high: data integrity (mentions '{hit}')")
    if level == "medium" and floor == "low":
        if hit := _first(_COSMETIC, text):
            level = "low"
            reasons.append(f"severity low: cosmetic (mentions '{hit}')")
        else:
            reasons.append(f"severity medium: default for {category.replace('_', ' ')} reports")

    if hit := _first(_WORKAROUND, text):
        new = _shift(level, -1)
        if SEVERITIES.index(new) > SEVERITIES.index(floor):
            new = floor
        if new != level:
            reasons.append(f"lowered {level} -> {new}: workaround available (mentions '{hit}')")
            level = new

    bump = 2 if affected_count >= 10 else 1 if affected_count >= 3 else 0
    if bump:
        new = _shift(level, bump)
        if new != level:
            reasons.append(f"raised {level} -> {new}: {affected_count} people affected")
            level = new
        else:
            reasons.append(f"{affected_count} people affected (already at {level})")
    return level, reasons
