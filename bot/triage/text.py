"""Text hygiene for triage: Slack markup to text, PII/secret masking, ping neutralising.

Pure functions, stdlib only. Nothing here talks to Slack.
"""
from __future__ import annotations

import re

__all__ = ["slack_to_text", "mask_pii", "neutralize_mentions", "neutralize_pings", "escape_mrkdwn", "strip_html_comments",
           "collapse_ws"]

ZWSP = "\u200b"

# --------------------------------------------------------------------------- Slack markup

_ANGLE = re.compile(r"<([^<>\n]{1,500})>")
_FENCE = re.compile(r"```.*?```", re.S)
# The "no word character before the opening mark" test is written after the mark, as a two-character
# lookbehind ("`(?<!``)" rather than "(?<!`)`"): a pattern that starts with a literal lets `re`
# jump from mark to mark instead of trying every position; the matches are the same.
_INLINE_CODE = re.compile(r"`(?<!``)([^`\n]+)`(?!`)")
_BOLD = re.compile(r"\*(?<![\w*]\*)(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"_(?<![\w_]_)(?=[^\s_])([^_\n]+?)(?<=[^\s_])_(?![\w_])")
_STRIKE = re.compile(r"~(?<![\w~]~)(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


def _angle(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):                       # <@U123> / <@U123|name>: keep the id
        return f"<{target}>"
    if target.startswith("#"):                       # <#C123|general>
        return f"#{label}" if label else target
    if target.startswith("!"):
        word = target[1:]
        if word in _SPECIAL:
            return _SPECIAL[word]
        if word.startswith("subteam^"):
            return label if label.startswith("@") else f"@{label or 'group'}"
        if re.fullmatch(r"[a-z]+(?:\^[^|]*)?", word):
            return label or word.split("^", 1)[0]   # <!date^...|fallback>
        return match.group(0)                        # e.g. an HTML comment: not Slack markup
    if target.startswith("mailto:"):
        address = target[len("mailto:"):]
        return address if not label or label == address else f"{label} ({address})"
    if re.match(r"[a-z][a-z0-9+.-]*://", target, re.I):
        if label and label != target:
            return f"{label} ({target})"
        return target
    return match.group(0)                            # not Slack markup: leave as typed


def slack_to_text(text: str) -> str:
    """Slack mrkdwn to readable plain text; user mentions stay as `<@U123>` ids."""
    if not text:
        return ""
    fences: list[str] = []
    out = _keep_fences(text, fences) if "```" in text else text
    if "<" in out:
        out = _ANGLE.sub(_angle, out)
    if "`" in out:
        out = _INLINE_CODE.sub(r"\1", out)
    if "*" in out:
        out = _BOLD.sub(r"\1", out)
    if "_" in out:
        out = _ITALIC.sub(r"\1", out)
    if "~" in out:
        out = _STRIKE.sub(r"\1", out)
    if fences:
        out = re.sub(r"\x00(\d+)\x00", lambda m: fences[int(m.group(1))], out)
    # Slack escapes only these three; unescape last so "&lt;b&gt;" never becomes markup above.
    return out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _keep_fences(text: str, fences: list[str]) -> str:
    """_FENCE.sub with each fence put aside in `fences` and replaced by its NUL-delimited index.
    Written with str.find: the lazy ".*?" of _FENCE steps through a fence one character at a
    time; its match is the span from a "```" to the next "```" that starts after it (and once a
    "```" has no closing one, no later one has)."""
    parts: list[str] = []
    pos = 0
    while (start := text.find("```", pos)) >= 0 and (end := text.find("```", start + 3)) >= 0:
        fences.append(text[start:end + 3])
        parts.append(text[pos:start])
        parts.append(f"\x00{len(fences) - 1}\x00")
        pos = end + 3
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


def strip_html_comments(text: str) -> str:
    return re.sub(r"<!--.*?(?:-->|$)", " ", text, flags=re.S)


# Texts shorter than this keep the plain regex scan: there a few `find` calls per pattern cost more
# than the scan they would save (measured with bench/classify_speed.py: chat got slower).
LITERAL_SCAN_MIN = 160


def literal_positions(text: str, literals: tuple[str, ...]) -> list[int]:
    """Every position at which one of `literals` occurs (unsorted; str.find runs in C): where a
    pattern that starts with one of them can match, so it need not be tried anywhere else."""
    at: list[int] = []
    for lit in literals:
        pos = text.find(lit)
        while pos >= 0:
            at.append(pos)
            pos = text.find(lit, pos + 1)
    return at


def collapse_ws(text: str) -> str:
    return _WS.sub(" ", text).strip()


MAX_SPAN = 300


def clip(text: str, limit: int = MAX_SPAN) -> str:
    """One line of at most `limit` characters, cut at a word ("…" marks the cut)."""
    text = collapse_ws(text)
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:-") + "…"


# --------------------------------------------------------------------------- PII / secrets

_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)", re.S)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_TOKENS = re.compile(
    r"\b(?:xox[abposre]-[A-Za-z0-9-]{6,}|xapp-[A-Za-z0-9-]{6,}"
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|sk_(?:live|test)_[A-Za-z0-9]{10,}|AIza[0-9A-Za-z_-]{30,}"
    r"|sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,}"          # OpenAI (and look-alike) API keys
    r"|gl(?:pat|ptt|dt|rt|cbt|oas|soat|ffct|imt|agent)-[A-Za-z0-9_-]{20,})")  # GitLab tokens
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]{8,}=*", re.I)
_KEYVAL = re.compile(
    r"(?i)\b((?:[a-z]+[_-])?(?:password|passwd|passphrase|pwd|pw|pass|api[_-]?key|apikey|secret|"
    r"secret[_-]?key|client[_-]?secret|token|auth[_-]?token|access[_-]?token|refresh[_-]?token|"
    r"private[_-]?key))"
    r"(\s*(?:[:=]|\bis\b)\s*)(\"[^\"\n]*\"|'[^'\n]*'|[^\s,;&\"'<>]+)")
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][\w.+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# _CARD and _PHONE check the character before a match in their callbacks (_bad_start): a
# pattern that starts with a digit is scanned much faster than one that starts with a lookbehind.
# _CARD also finds 9 to 12 digits: _card hands those to _bare_number (one scan for both).
_CARD = re.compile(r"\d(?:[ -]?\d){8,18}(?!\w|[.-]\w)")
# The first character is matched once by a class and each alternative checks it with a lookbehind
# ("[+(\d](?:(?<=\+)…" for "\+…"): a pattern that starts with a character class lets `re` skip
# the other characters, one that starts with an alternation of \d… tries every position. Same
# matches as the plain alternation (tests/test_triage_shortcuts.py).
_PHONE = re.compile(
    r"[+(\d](?:"
    r"(?<=\+)\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,5}){1,4}"   # +49 170 1234567
    r"|(?<=\()\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,5}"                              # (555) 123-4567
    r"|(?<=\d)\d{2}[-. ]\d{3}[-. ]\d{4}"                                        # 555-123-4567
    r"|(?<=0)\d{2,4}[ /-]\d{3,4}(?:[ -]?\d{2,5}){0,2}"                           # 0170 1234567
    r")(?![\w.-]*\w)")
# Numbers without the usual separators: "5551234567" / "555 1234567" (a phone number unless the
# words before it call it an id, a code, a count…) and "123-45-6789" (a US social security number).
# Found by the _CARD scan (as more alternatives of _PHONE, or in a scan of their own, they cost more).
_BARE_NUMBER = re.compile(r"\d{3}(?:-\d{2}-\d{4}| ?\d{7})")
_NOT_A_PHONE_BEFORE = re.compile(
    r"(?i)(?:\b(?:id|ids|code|error|errno|exit|status|order|ref|reference|build|version|port|pid|uid|gid|seed|"
    r"timestamp|ts|epoch|size|bytes|count|offset|index|value|limit|max|min|issue|ticket|invoice|tracking|serial|hash|commit|line|row)s?|#|=)"
    r"\W{0,3}$")
# IBAN: country, check digits, up to 30 letters/digits in groups of four (checked with mod 97).
# (It starts with a character class, not \b, so `re` can skip ahead; _iban checks the start.)
_IBAN = re.compile(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
# Every IBAN match starts with two capitals and two digits: a text without them skips the IBAN scan
# (a pattern that starts with a character class is scanned fast; _IBAN starts with a repeat)
_IBAN_START = re.compile(r"[A-Z][A-Z]\d\d")
_SSN_CUED = re.compile(r"(?i)\b(ssn|social security(?: number| no\.?)?)(\W{0,3})\d{3}[ .]?\d{2}[ .]?\d{4}\b")
_NON_DIGIT = re.compile(r"\D")
_WS = re.compile(r"\s+")
_EMAIL_HINT = re.compile(r"@[A-Za-z0-9-]+\.[A-Za-z]")
# Literal gates: a text without any of these cannot match the pattern they guard, and a few `in`
# scans (C substring search) are several times cheaper than one regex scan of a long text.
# (For _TOKENS one alternation of the prefixes is cheaper than a dozen `in` scans.)
_TOKEN_HINT = re.compile(r"xox|xapp-|AKIA|ASIA|gh[pousr]_|github_pat_|sk_live_|sk_test_|AIza|sk-|"
                         r"gl(?:pat|ptt|dt|rt|cbt|oas|soat|ffct|imt|agent)-")
_KEYVAL_LITERALS = ("pass", "pw", "key", "secret", "token")
_KEYVAL_HINT = re.compile(r"pass|pw|key|secret|token")
# Every card number (13+ digits), phone number masked (7+ digits, see _phone), SSN and IBAN (whose
# national part is mostly digits) holds 7 digits in a row with at most 3 of " .()+/-" between each
# two of them: a text without such a run needs none of those scans (about half of long issue bodies).
_DIGIT_RUN = re.compile(r"\d(?:[ .()+/-]{0,3}\d){6}")
_SAFE_VALUES = re.compile(r"(?i)^(?:\[\w+\]|none|null|true|false|required|reset|expired|invalid|missing)$")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _bad_start(m: re.Match[str], chars: str) -> bool:
    s = m.start()
    return s > 0 and (m.string[s - 1].isalnum() or m.string[s - 1] in chars)


def _card(m: re.Match[str]) -> str:
    if _bad_start(m, "_.-"):
        return m.group(0)
    digits = _NON_DIGIT.sub("", m.group(0))
    if len(digits) < 13:
        return _bare_number(m)
    return "[card]" if len(digits) <= 19 and _luhn(digits) else m.group(0)


def _phone(m: re.Match[str]) -> str:
    s = m.group(0)
    if _bad_start(m, "_.+/-"):
        return s
    digits = _NON_DIGIT.sub("", s)
    if not 7 <= len(digits) <= 15:
        return s
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(?: \d+)?|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}", s):  # dates
        return s
    if "." in s and not s.startswith("+") and not re.fullmatch(r"\d{3}\.\d{3}\.\d{4}", s):
        return s                                      # versions, IPs
    return "[phone]"


def _bare_number(m: re.Match[str]) -> str:
    s = m.group(0)
    if not _BARE_NUMBER.fullmatch(s) or _bad_start(m, "_.+/-"):
        return s
    if s[3] == "-":
        return _ssn(s)
    if s[0] in "01" or _NOT_A_PHONE_BEFORE.search(m.string, max(0, m.start() - 24), m.start()):
        return s                                      # no area code starts with 0 or 1 (timestamps do)
    return "[phone]"


def _iban(m: re.Match[str]) -> str:
    if m.start() and m.string[m.start() - 1].isalnum():
        return m.group(0)
    compact = m.group(0).replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return m.group(0)
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return "[iban]" if int(number) % 97 == 1 else m.group(0)


def _ssn(s: str) -> str:
    area, group, serial = s.split("-")
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return s
    return "[ssn]"


def _keyval(m: re.Match[str]) -> str:
    value = m.group(3)
    bare = value.strip("\"'")
    if _SAFE_VALUES.match(bare) or len(bare) < 3:
        return m.group(0)
    if m.group(2).strip().lower() == "is" and not re.search(r"[\d\W]", bare):
        return m.group(0)                             # "the token is expired"-style prose
    return f"{m.group(1)}{m.group(2)}[secret]"


def _mask_keyvals(text: str, lower: str) -> str:
    """_KEYVAL.sub, tried only where a cheap literal hint ("pass", "key", "token"…) occurs."""
    if len(lower) != len(text):                       # lower() changed lengths (rare non-ASCII)
        return _KEYVAL.sub(_keyval, text)
    parts: list[str] = []
    pos = 0
    for hint in _KEYVAL_HINT.finditer(lower):
        start = hint.start()
        if start < pos:
            continue
        while start > pos and (lower[start - 1].isalpha() or lower[start - 1] in "_-"):
            start -= 1                                # back to the start of "db_password"
        real = _KEYVAL.match(text, start)
        if real is None or (start and (text[start - 1].isalnum() or text[start - 1] == "_")):
            continue
        parts.append(text[pos:start])
        parts.append(_keyval(real))
        pos = real.end()
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


def mask_pii(text: str) -> str:
    """Mask e-mails, phones, IBANs, US social security numbers, Luhn-valid card numbers and secrets;
    leave versions, codes, ids alone."""
    if not text:
        return ""
    out = _PRIVATE_KEY.sub("[secret]", text) if "PRIVATE KEY" in text else text
    if "eyJ" in out:
        out = _JWT.sub("[secret]", out)
    if _TOKEN_HINT.search(out):
        out = _TOKENS.sub("[secret]", out)
    lower = out.lower()
    if "bearer" in lower or "basic" in lower:
        out = _BEARER.sub(lambda m: f"{m.group(1)} [secret]", out)
    if any(hint in lower for hint in _KEYVAL_LITERALS):
        out = _mask_keyvals(out, lower)
    if "@" in out and _EMAIL_HINT.search(out):
        out = _EMAIL.sub("[email]", out)
    if ("ssn" in lower or "social security" in lower) and _SSN_CUED.search(out):
        out = _SSN_CUED.sub(lambda m: f"{m.group(1)}{m.group(2)}[ssn]", out)
    if _DIGIT_RUN.search(out):
        if _IBAN_START.search(out):
            out = _IBAN.sub(_iban, out)               # first: its digits are no card or phone number
        out = _CARD.sub(_card, out)
        out = _PHONE.sub(_phone, out)
    return out


# --------------------------------------------------------------------------- pings

_PING_ANGLE = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>", re.I)
_PING_SUBTEAM = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|@?([^>]*))?>")
_PING_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_PING_BARE = re.compile(r"(?<![\w@])@(here|channel|everyone)\b", re.I)


def neutralize_pings(text: str) -> str:
    """Broadcast, group and user mentions (`<!here>`, `@channel`, `<@U1>`…) turned into text that pings nobody."""
    if not text:
        return ""
    out = _PING_ANGLE.sub(lambda m: f"@{ZWSP}{m.group(1).lower()}", text) if "<!" in text else text
    if "<!subteam" in out:
        out = _PING_SUBTEAM.sub(lambda m: f"@{ZWSP}{m.group(2) or m.group(1)}", out)
    if "<@" in out:
        out = _PING_USER.sub(lambda m: f"@{ZWSP}{m.group(2) or m.group(1)}", out)
    if "@" in out:
        out = _PING_BARE.sub(lambda m: f"@{ZWSP}{m.group(1)}", out)
    return out


def neutralize_mentions(text: str) -> str:
    """Make the bot's own mrkdwn safe to post: no broadcast, group or user mention in it can ping anyone."""
    # anything else in Slack's special syntax (<!date…>, <@…> variants) is shown, not parsed
    return neutralize_pings(text).replace("<!", "&lt;!").replace("<@", "&lt;@")


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters escaped: what was typed is shown as typed, never parsed as
    a link, a mention or a command (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

