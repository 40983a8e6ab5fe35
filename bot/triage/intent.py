"""What a message opens with: a how-to question, a request, or a problem. Stdlib only.

These are the product rules of issue 12, written as patterns over the opening of a chat message
or an issue title (after a greeting, a mention or a "[tag]" prefix):
  * a how-to question ("how do I…", "is there a way…", "can I…", "does anyone know…", "what is
    the difference…") is a question, even with an error word in it;
  * a request phrased as an imperative or a noun phrase ("support for X", "add Y", "allow Z",
    "consider…", "increase…", "it would be nice…") is a feature request;
  * something that does not work ("fails", "error", "doesn't", "stuck", a stack trace, "since the
    release") is a problem (bug family).
All patterns are lower case and run on lower-cased text.
"""
from __future__ import annotations

import re

__all__ = ["opening", "howto", "asks_how", "strong_request", "weak_request", "stack_trace", "regression", "request_anywhere"]

# "hi all,", "@someone", "[Feature]"-style tags and leading punctuation are not the opening
_LEAD = re.compile(r"^(?:\s|<@\w+>|@\w[\w.-]*|[>*_`#\-•]+|(?:hi|hey|hello|hiya|dear|greetings|good (?:morning|"
                   r"afternoon|evening))(?: (?:all|team|guys|folks|everyone|everybody|there|friends|people|"
                   r"experts|community))?\b[\s,.!:;-]*|(?:sorry|thanks|thank you)[^.!?\n]{0,40}[.!]\s)+")
_TAG = re.compile(r"^\s*\[[^\]]{1,30}\]\s*:?\s*|^\s*(?:feature request|feature|enhancement|proposal|"
                  r"suggestion|request|idea|rfc|fr|question|bug)\s*[:\-]\s*")
# "V4L2: …", "tf.data Dataset: …", "DevTools v4 - …": a component named before the message itself
_COMPONENT = re.compile(r"^[\w./@#+-]+(?: [\w./@#+-]+){0,2}\s*(?::|\s-)\s+(?=\S)")
_FEATURE_TAG = re.compile(r"^\s*\[?(?:feature(?: request)?|enhancement|proposal|suggestion|idea|rfc|fr|"
                          r"request)\]?\s*[:\-\]]")
_QUESTION_TAG = re.compile(r"^\s*\[?(?:question|help|q|how ?to|support)\]?\s*[:\-\]]")

_HOWTO = re.compile(
    r"(?:how (?:do|does|did|can|could|should|would|to|is|are|much|many|about)\b|how\b(?! come)|"
    r"is (?:it|there) (?:possible|a way|an? (?:easy |simple |good |better |recommended |proper |standard )?"
    r"(?:way|option|setting|config\w*|property|example|alternative|equivalent|plan)|any ?(?:way|option|plan)|"
    r"ok|okay|safe|recommended|advisable|supported|planned)|"
    r"are there\b|"
    r"(?:can|could|may) (?:i|we|you|one|someone|somebody|anyone|anybody|spring|it)\b|"
    r"(?:does|did|has|have|do) (?:anyone|anybody|someone|somebody|any of you|you guys)\b|"
    r"(?:anyone|anybody|someone|somebody) (?:know|knows|have|has|tried|here|can|could|using|familiar)\b|"
    r"do (?:i|we|you) (?:need|have to|know)\b|"
    r"what(?:'s| is| are| was| would be| should| do| does| happens| happened to)? (?:the )?(?:difference|best|"
    r"right|correct|proper|recommended|preferred|standard|suggested|purpose|meaning|equivalent|alternative|"
    r"way|approach|reason|status|plan|use ?case|default|state)|"
    r"what (?:is|are|does|do|should|would|kind|type|version)\b|"
    r"which\b|where (?:do|does|can|is|are|should|would)\b|when (?:should|will|is|are|do|does|would)\b|"
    r"should (?:i|we|one)\b|would (?:it|you) be\b|"
    r"(?:a |one )?quick question|(?:i have|i've got|i got) a (?:quick |small |simple )?question|question\b|"
    r"any (?:idea|ideas|way|tips?|suggestions?|pointers?|examples?|docs|documentation|recommendations?|"
    r"guidance|help|thoughts)\b|is (?:this|that) (?:possible|supported|the (?:right|correct|recommended))|"
    r"i(?:'m| am) (?:wondering|curious|looking for (?:a|an|the|some) (?:way|example|guide|tutorial|doc))|"
    r"i (?:was )?wonder(?:ing)?\b|wondering\b|i(?:'d| would) like to know|i want to know|"
    r"please (?:help|advise|suggest|share|guide|explain|tell)|can't (?:seem to )?(?:find|figure out) (?:how|"
    r"where|a way|the way|docs|documentation))")
_STRONG_REQUEST = re.compile(
    r"(?:(?:add|adding)\b(?! (?:to|in|on|a new .{0,30}(?:fails|causes|breaks)))|support(?:ing)? (?:for|of)\b|"
    r"(?:support|allow|consider|increase|decrease|reduce|provide|expose|enable|introduce|implement|offer|"
    r"extend|let)\b(?!(?:ed|s|ing)\b)|"
    r"(?:option|ability|possibility|way|setting|api|flag|config(?:uration)?) (?:to|for)\b|"
    r"(?:it )?would (?:be|it be) (?:nice|great|good|helpful|useful|cool|awesome|better)|it'd be (?:nice|great)|"
    r"nice to have|please (?:add|support|allow|make|enable|implement|consider|provide|expose|include|let)|"
    r"feature request|proposal\b|suggestion\b|request\b(?! (?:fails?|failed|is|was|returns?|times? out))|"
    r"make (?:it )?(?:possible|configurable|optional|easier)|"
    r"(?:i|we)(?:'d| would) (?:like|love) (?:to (?:see|have)|an? |the (?:option|ability))|"
    r"(?:i|we) (?:wish|need) (?:there was|there were|an? (?:way|option)|the (?:ability|option))|"
    r"(?:can|could|shall|should) (?:we|you|they|someone) (?:please )?(?:add|have|get|support|make|allow|"
    r"enable|introduce|include|implement|provide|show|offer|consider|expose)|"
    # "when will tensorflow support FP8?": asking for a feature, not how to use one
    r"when (?:will|is|are|do(?:es)?) [\w .+-]{1,40}? (?:support|add|get|have|be (?:supported|added|available))\b)")
# request phrases that say "request" wherever they stand in a short message or a title
_REQUEST_ANYWHERE = re.compile(
    r"\b(?:support (?:for|of)\b|add(?:s|ing)? (?:support|an? (?:new )?(?:option|setting|flag|api|method|way)|the "
    r"(?:ability|option|possibility)|a way)|(?:an? |new )(?:option|flag|setting|parameter|argument) (?:to|for)\b|"
    r"(?:ability|possibility) to\b|(?:it )?would be (?:nice|great|useful|helpful|good)|feature request|"
    r"enhancement\b|proposal\b|\bshould (?:support|allow|have|provide|expose|accept)\b|"
    r"\b(?:please|pls) (?:add|support|allow|consider|provide|expose))")
_WEAK_REQUEST = re.compile(
    r"(?:make|improve|include|create|deprecate|rename|remove|replace|migrate|show|display|hide|split|unify|"
    r"refactor|update|upgrade|use|move|change|document|clarify|simplify|auto\w*|better|new|more|optional|"
    r"configurable|customi[sz]able|allow(?:s|ing)?|emit|log|warn|treat|respect|honou?r|prefer|avoid|"
    r"prevent|stop|drop|skip|detect|publish|accept|return|set|bump|standardi[sz]e|export|import|"
    r"generate|introduc\w+|enhanc\w+|extend\w*|expos\w+|cache)\b(?! (?:is|are|was|were|fails?|failed|"
    r"crash\w*|throws?|not|doesn'?t|does not|broke|causes?)\b)")
_TRACE = re.compile(r"\btraceback \(most recent call last\)|\n\s*at [\w.$<>]+\([\w.]*(?::\d+)?\)|"
                    r"\bcaused by: |\bexception in thread\b|\b\w+(?:exception|error): |\bstack ?trace\b|"
                    r"\bsegmentation fault|\bcore dumped|\bpanic(?:ked)?:")
_REGRESSION = re.compile(r"\bsince (?:the |our |we |i |version |v?\d)(?:[^.!?\n]{0,30})?(?:release|update|"
                         r"upgrade|deploy\w*|migrat\w*|\d+\.\d+)|\bafter (?:the |we |i )?(?:upgrad|updat)\w*|"
                         r"\bno longer\b|\bstopped working\b|\bused to work\b")
SHORT = 160               # a title or a one-line message: request phrases count wherever they are
_FIRST_SENTENCE = re.compile(r"[.!?\n](?:\s|$)")


def opening(text: str) -> str:
    """The lower-cased opening without greeting, mention or tag: what the intent rules read."""
    low = text.lower()
    m = _LEAD.match(low)
    rest = low[m.end():] if m else low
    t = _TAG.match(rest)
    if t and not _FEATURE_TAG.match(rest) and not _QUESTION_TAG.match(rest):
        rest = rest[t.end():]
    c = _COMPONENT.match(rest)
    if c and not _FEATURE_TAG.match(rest) and not _QUESTION_TAG.match(rest) and not rest.startswith(("http", "error")):
        rest = rest[c.end():]
    return rest.lstrip()


def _first_sentence(head: str) -> str:
    m = _FIRST_SENTENCE.search(head)
    return head[: m.start() + 1] if m else head


def howto(head: str) -> str | None:
    """The how-to question phrase the opening starts with (its first sentence), or None."""
    if _QUESTION_TAG.match(head):
        return head.split("]")[0].strip("[ :") or "question"
    first = _first_sentence(head)
    m = _HOWTO.match(first)
    return m.group(0) if m else None


# Asking how to do something, anywhere in a chat message ("… validation doesn't happen with JSR-303.
# Any way to trigger this?"): not "any idea?", which as often asks why something fails, nor "how
# can I fix it?", which asks for a fix of a problem.
_ASKS_HOW = re.compile(
    r"(?:\bis there (?:a|an|any) (?:\w+ )?(?:way|option|setting|property|example)|\bany ?(?:way|pointers?|examples?|"
    r"recommendations?|guidance) (?:to|on|for|of|how)\b|"
    r"\bhow (?:can|do|should|would|could) (?:i|we|one)\b(?! (?:fix|solve|resolve|avoid|prevent|get rid|debug|"
    r"troubleshoot|work ?around|make (?:it|this) work))|"
    r"\bwhat(?:'s| is) the (?:best|right|correct|recommended|proper|preferred|easiest) (?:way|approach|practice)|"
    r"\bi have a (?:quick |small |simple )?question\b|\b(?:can|could) (?:someone|somebody|anyone|anybody|you) "
    r"(?:please )?(?:help me )?(?:explain|clarify|tell me|point me)\b)")


def asks_how(text: str) -> str | None:
    """A phrase asking how to do something, anywhere in the (lower-cased) text, or None."""
    m = _ASKS_HOW.search(text)
    return m.group(0) if m else None


def strong_request(head: str) -> str | None:
    if _FEATURE_TAG.match(head):
        return head.split("]")[0].split(":")[0].strip("[ ")
    m = _STRONG_REQUEST.match(head)
    return m.group(0) if m else None


def request_anywhere(head: str) -> str | None:
    m = _REQUEST_ANYWHERE.search(head[:SHORT])
    return m.group(0) if m else None


def weak_request(head: str) -> str | None:
    m = _WEAK_REQUEST.match(head)
    return m.group(0) if m else None


def stack_trace(text: str) -> str | None:
    m = _TRACE.search(text.lower()) if len(text) > 60 else None
    return m.group(0).strip() if m else None


def regression(text: str) -> str | None:
    m = _REGRESSION.search(text)
    return m.group(0) if m else None
