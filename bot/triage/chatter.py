"""Is a chat message a report (problem, request, product question) or war-room chatter? Stdlib only."""
from __future__ import annotations

import re

__all__ = ["is_chatter", "PROBLEM", "REQUEST", "QUESTION"]

# Words that on their own never make a report: acknowledgements, greetings, social talk.
_CHATTER_WORDS = frozenset("""
ok okay k kk okk yes yep yeah yup no nope nah sure cool nice great awesome perfect thanks thank thx ty
tysm tyvm you u cheers np welcome lol lmao haha hahaha hehe rofl omg wow yay woo woohoo hooray gg lgtm
sgtm ack acked roger noted done fixed merged shipped deployed approved agreed same +1 -1 plus one brb
afk bbl omw gtg ttyl back here hi hey hello hiya yo morning good evening afternoon night gm gn bye
later cya see all team folks everyone everybody guys people y'all yall friends again much so very a
the to for it this that is was be will i'm im we we're all on my way lunch coffee tea break beer
pizza snacks food dinner breakfast anyone want wants up going grab out office today tomorrow
weekend monday friday happy birthday congrats congratulations welcome aboard well job work
nicely done ship it shipit indeed true exactly right agree totally absolutely definitely maybe
probably hmm hm ah oh ahh ooh uh um sorry my bad apologies no worries worries problem np sounds
good works me for checking looking will do on it got it gotcha makes sense understood of course
in minutes min mins sec secs moment one sec hold on standup call meeting zoom joining join soon
is are was were at of with and or but have has had do does did can could would will just now then
there what when where who why how me your our their they them he she its us let lets let's still
too also really yet already off back home go going gone get got thing things stuff bit lot
late early staying stay stayed hard work working worked effort everyone's night's nights
fyi heads deploy deploying deployment rolling rollout rolled release released live hotfix reverted
revert rollback monitoring investigating eta status standup sync retro
""".split())
_STOP = _CHATTER_WORDS
_GREETING = re.compile(r"^(?:good (?:morning|afternoon|evening|night)|hi|hey|hello|morning|gm|yo)\b", re.I)
_EMOJI_CODE = re.compile(r":[a-z0-9_+'-]+:")
_MENTION = re.compile(r"<[@#!][^>]*>|@\w+")
_NON_WORD = re.compile(r"[^\w\s+'-]+", re.UNICODE)

PROBLEM = re.compile(
    r"\b(?:bug|error\w*|errs?|fail\w*|broken|break\w*|crash\w*|exception|not (?:working|loading|showing|"
    r"saving|sending|found|syncing|updating|arriving|opening|responding|appearing|going through)|"
    r"doesn'?t|does not|don'?t work|didn'?t|isn'?t|won'?t|can'?t|cannot|unable|"
    r"couldn'?t|stuck|hang\w*|freez\w*|froze|blank|nothing happens|does nothing|wrong|incorrect|missing|"
    r"lost|slow\w*|latency|lag\w*|timeout|timed out|times out|down|outage|issue|problem|glitch|regression|"
    r"[45]\d\ds?|never (?:arrives?|arrived|loads?|works?)|(?:logged|kicked|signed) out|takes? ~?\d+ ?(?:s|ms|"
    r"secs?|seconds|min|minutes)|throw\w*|err_\w+|declin\w*|reject\w*|spinner|spinning|404|invalid|"
    r"denied|forbidden|duplicate\w*|"
    r"overlap\w*|typo|misaligned|leak\w*|corrupt\w*|disappear\w*|gone|"
    # what tracker titles say ("Apache 2.2.8 segfaults …", "module header files not installed")
    r"segfault\w*|seg(?:mentation)? fault|core dump\w*|abort\w*|panic\w*|deadlock\w*|infinite loop|"
    r"\w+exception\w*|nullpointer\w*|npe|stack ?overflow\w*|killed|no longer|false positives?|warnings?|"
    r"not (?:be(?:ing)? )?(?:\w+ed|shown|seen|run|built|written|taken|given))\b", re.I)
REQUEST = re.compile(
    r"\b(?:(?:can|could|shall|should) (?:we|you|they|someone) (?:please )?(?:add|have|get|support|make|"
    r"allow|enable|introduce|build|include|implement|provide|show|offer|consider)|it would be (?:nice|"
    r"great|good|helpful|useful|cool|awesome)|would be (?:nice|great|good|helpful|useful) (?:if|to)|"
    r"please (?:add|support|allow|make|enable|implement|consider|provide)|feature requests?|feature idea|"
    r"(?:i|we)'?d (?:like|love) (?:to see|to have|it if|if|an? |the option)|(?:i|we) (?:wish|need) "
    r"(?:there was|there were|we could|i could|a way|an option|the ability)|add (?:support for|an "
    r"option|a way|the ability|a setting|a button|dark mode|an? export)|(?:suggestion|request|idea):|"
    r"wishlist|nice[- ]to[- ]have|"
    # what is missing rather than broken: "TIFFDecoder does not support 12 bits", "has no option to …"
    r"(?:does ?n[o']t|doesn'?t|do ?n[o']t|don'?t|cannot|can'?t|won'?t) (?:yet )?support\b|"
    r"(?:has|have|there is|there's) no (?:way|option|setting|key|flag|api|support) (?:to|for)\b|"
    r"lacks? (?:support|an? (?:way|option|setting)))", re.I)
QUESTION = re.compile(
    r"^\W*(?:how (?:do|can|to|does|should|would|are|is)|is (?:it|there) (?:possible|a way|an? option|any"
    r"way)|does (?:anyone|anybody|someone|somebody) know|(?:anyone|anybody) (?:know|knows)|(?:do|does|"
    r"can|could) (?:i|we|you|it|the|our|this)\b|what(?:'s| is| are| does| do| happens)|where (?:do|can|is|"
    r"are)|why (?:do|does|is|are|did)|which|when (?:will|does|do|is)|who (?:knows|owns|can)|are (?:we|"
    r"there|you)|is (?:this|that|the|our)|quick question|question:|any (?:idea|way|docs|documentation))",
    re.I)
_PRODUCT = re.compile(
    r"\b(?:app|site|page|screen|button|login|log in|sign ?in|checkout|cart|payment|invoice|order|account|"
    r"dashboard|report|export|import|upload|download|search|filter|settings?|profile|email|notification|"
    r"api|webhook|sync|integration|mobile|ios|android|browser|chrome|safari|firefox|feature|version|"
    r"release|deploy\w*|prod(?:uction)?|staging|data|user|customer|form|field|menu|link|modal|popup|"
    r"dark mode|password|sso|report|pdf|csv)\b", re.I)


_SOCIAL_PHRASES = re.compile(
    r"\b(?:no (?:problem|problems|issue|issues|worries)|not a problem|my bad|sorry for the delay|"
    r"going down (?:for|to)|down for (?:lunch|coffee|a bit)|(?:issue|problem) (?:is )?(?:fixed|"
    r"resolved|gone)|"
    r"all (?:good|fixed|green))\b", re.I)


def _words(text: str) -> list[str]:
    text = _MENTION.sub(" ", text)
    text = _EMOJI_CODE.sub(" ", text)
    return [w for w in _NON_WORD.sub(" ", text.lower()).split() if w]


def is_chatter(text: str) -> bool:
    """True for acknowledgements, greetings, emoji, social talk; False for anything report-like."""
    words = _words(text)
    if not words:
        return True                                     # empty, emoji-only, mentions-only
    social = _SOCIAL_PHRASES.sub(" ", text)
    if PROBLEM.search(social) or REQUEST.search(social):
        return False
    product = bool(_PRODUCT.search(text))
    if all(w in _CHATTER_WORDS or w.isdigit() for w in words):
        return True
    if QUESTION.search(text) and product:
        return False
    if _GREETING.match(" ".join(words)) and len(words) <= 6 and not product:
        return True
    content = [w for w in words if w not in _STOP and not w.isdigit() and len(w) > 1]
    return len(content) < 2
