"""Segment-rule errors in the reader's language.

The rule checks (rules.py, compiler.expand, the list and segment look-ups) raise English
messages: they are what logs, the CLI and the audit keep, and tests read them. The API
error handler says them in the caller's language through core.i18n.say_message, which
calls `known` below: the rule path (`all[1].any[0]`) stays as written, the sentence after
it is matched against the patterns here and said through the catalogue, and the closing
"field 'age' is int (ops: …)" is said too. Values, names and operators stay as the user
wrote them. A message none of the patterns knows is left to the other domains.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from telcamp.core.i18n import _, known_only, register_messages, say_pattern

Gettext = Callable[[str], str]

# `all[1].any[0].not: …`, `rule: …`, `in_segment: …` (a look-up's own prefix)
_PATH = re.compile(r"^(?P<path>rule|in_segment|in_list|(?:all\[\d+\]|any\[\d+\]|not)"
                   r"(?:\.(?:all\[\d+\]|any\[\d+\]|not))*): (?P<body>.+)$", re.S)
# `…: field 'age' is int (ops: =, !=)`: what the leaf compares, its type and operators
_ABOUT = re.compile(r"^(?P<head>.+): (?P<what>field|usage) '(?P<name>[^']*)' is "
                    r"(?P<type>[\w ]+?) \(ops: (?P<ops>[^)]*)\)$", re.S)
_HINT = re.compile(r"^(?P<head>.+); did you mean '(?P<close>[^']+)' \((?P<info>[^)]*)\)\?$",
                   re.S)

_INFO = re.compile(r"^(?P<type>[\w ]+), ops: (?P<ops>.*)$", re.S)  # of a "did you mean"

ABOUT = {"field": _("field '{name}' is {type} (ops: {ops})"),
         "usage": _("usage '{name}' is {type} (ops: {ops})")}
# type names as rules.py writes them (and the two-word ones of check_value's sentences)
TYPES = {
    "str": _("text"), "int": _("whole number"), "float": _("number"), "bool": _("yes/no"),
    "date": _("date"), "timestamp": _("date and time"), "a number": _("number"),
    "text": _("text"), "a whole number": _("a whole number"),
    "true or false": _("true or false"), "an ISO date (YYYY-MM-DD)": _("an ISO date (YYYY-MM-DD)"),
    "an ISO date-time": _("an ISO date-time"), "an ISO date": _("an ISO date"),
}
# region levels as the regions table names them (msgids of the region pages)
LEVELS = {"county": _("county"), "city": _("city"), "province": _("province")}
_WORDS = {"type": TYPES, "tw": TYPES, "level": LEVELS}

# English sentence (after the path, before the "about") → msgid with the same fields.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile("^" + p + "$", re.S), m) for p, m in (
        (r"operator '(?P<op>[^']*)' does not apply", _("operator '{op}' does not apply")),
        (r"unknown operator (?P<op>.+)", _("unknown operator {op}")),
        (r"is_null takes true, false or no value", _("is_null takes true, false or no value")),
        (r"'(?P<op>[^']+)' needs a non-empty list of values",
         _("'{op}' needs a non-empty list of values")),
        (r"'between' needs exactly two values \[low, high\]",
         _("'between' needs exactly two values [low, high]")),
        (r"'(?P<op>[^']+)' needs one value", _("'{op}' needs one value")),
        (r"value (?P<v>.+) is not a known region code", _("value {v} is not a known region code")),
        (r"value (?P<v>.+) is not a known city code", _("value {v} is not a known city code")),
        (r"value (?P<v>.+) is not a known province code",
         _("value {v} is not a known province code")),
        (r"value (?P<v>.+) is outside your region (?P<r>.+)",
         _("value {v} is outside your region {r}")),
        (r"value (?P<v>.+) is the code of a (?P<level>county|city|province) "
         r"\((?P<name>.*)\): use (?P<use>\w+)",
         _("value {v} is the code of a {level} ({name}): use {use}")),
        (r"value (?P<v>.+) is not one of (?P<allowed>.+)", _("value {v} is not one of {allowed}")),
        (r"value (?P<v>.+) is not (?P<tw>text|a whole number|a number|true or false|"
         r"an ISO date \(YYYY-MM-DD\)|an ISO date-time)", _("value {v} is not {tw}")),
        (r"an empty value", _("an empty value")),
        (r"'between' needs low ≤ high, got (?P<low>.+) > (?P<high>.+)",
         _("'between' needs low ≤ high, got {low} > {high}")),
        (r"unknown field '(?P<name>[^']*)'", _("unknown field '{name}'")),
        (r"unknown usage metric '(?P<name>[^']*)'", _("unknown usage metric '{name}'")),
        (r"a rule node needs one of (?P<expected>.+); got keys (?P<keys>.+)",
         _("a rule node needs one of {expected}; got keys {keys}")),
        (r"a rule node has exactly one of (?P<expected>.+); got (?P<kinds>.+)",
         _("a rule node has exactly one of {expected}; got {kinds}")),
        (r"unexpected key\(s\) (?P<keys>.+) in a '(?P<node>\w+)' rule",
         _("unexpected key(s) {keys} in a '{node}' rule")),
        (r"unexpected key\(s\) (?P<keys>.+) in 'contacted'",
         _("unexpected key(s) {keys} in 'contacted'")),
        (r"a rule node must be a JSON object, got (?P<got>\w+)",
         _("a rule node must be a JSON object, got {got}")),
        (r"'(?P<node>all|any)' takes a list of rules", _("'{node}' takes a list of rules")),
        (r"'any' needs at least one rule", _("'any' needs at least one rule")),
        (r"'days' must be a whole number from 1 to (?P<max>\d+), got (?P<got>.+)",
         _("'days' must be a whole number from 1 to {max}, got {got}")),
        (r"'in_list' takes a list name or id", _("'in_list' takes a list name or id")),
        (r"'in_segment' takes a segment name or id", _("'in_segment' takes a segment name or id")),
        (r"'contacted' takes .+", _("'contacted' takes {\"days\": N, \"campaign\"?: id, "
                                    "\"channel\"?: name}")),
        (r"'contacted.days' must be a whole number from 1 to (?P<max>\d+), got (?P<got>.+)",
         _("'contacted.days' must be a whole number from 1 to {max}, got {got}")),
        (r"'contacted.campaign' must be a campaign id, got (?P<got>.+)",
         _("'contacted.campaign' must be a campaign id, got {got}")),
        (r"'contacted.channel' must be one of (?P<channels>.+), got (?P<got>.+)",
         _("'contacted.channel' must be one of {channels}, got {got}")),
        (r"list (?P<ref>.+) not found", _("list {ref} not found")),
        (r"segment (?P<ref>.+) not found", _("segment {ref} not found")),
        (r"campaign (?P<ref>\d+) not found", _("campaign {ref} not found")),
        (r"segment (?P<name>.+) is referred to by name in: (?P<users>.+); refer to it by id "
         r"\((?P<id>\d+)\) there first, or keep the name",
         _("segment {name} is referred to by name in: {users}; refer to it by id ({id}) "
           "there first, or keep the name")),
        # template parameters (criteria.py)
        (r"parameter '(?P<name>[^']+)': (?P<v>.+) is not (?P<tw>a whole number|a number|"
         r"true or false|text|an ISO date)", _("parameter '{name}': {v} is not {tw}")),
        (r"parameter '(?P<name>[^']+)': (?P<v>.+) is not one of (?P<allowed>.+)",
         _("parameter '{name}': {v} is not one of {allowed}")),
        (r"parameter '(?P<name>[^']+)' is missing", _("parameter '{name}' is missing")),
        (r"unknown parameter\(s\) (?P<names>\[.*\]); this template takes (?P<takes>\[.*\])",
         _("unknown parameter(s) {names}; this template takes {takes}")),
        (r"the rule uses undeclared parameter\(s\) (?P<names>\[.*\])",
         _("the rule uses undeclared parameter(s) {names}")),
        (r"parameter\(s\) (?P<names>\[.*\]) are not used in the rule",
         _("parameter(s) {names} are not used in the rule")),
        (r"template (?P<ref>\d+) not found", _("template {ref} not found")),
        (r"a segment named (?P<name>.+) already exists in this region",
         _("a segment named {name} already exists in this region")),
        (r"a template named (?P<name>.+) already exists in this region",
         _("a template named {name} already exists in this region")),
        (r"in_segment (?P<ref>.+): segments refer to each other in a cycle \((?P<chain>.+)\)",
         _("in_segment {ref}: segments refer to each other in a cycle ({chain})")),
    )
)


def _body(text: str, gettext: Gettext) -> str | None:
    about = _ABOUT.match(text)
    if about:
        head = _body(about["head"], gettext)
        if head is None:
            return None
        template, kind = ABOUT[about.group("what")], about.group("type")
        what = gettext(template).format(name=about.group("name"),
                                        type=gettext(TYPES.get(kind, kind)),
                                        ops=about.group("ops"))
        return f"{head}: {what}"
    hint = _HINT.match(text)
    if hint:
        head = say_pattern(hint["head"], PATTERNS, gettext, _WORDS)
        if head is None:
            return None
        info = _INFO.match(hint["info"])
        said_info = gettext(_("{type}, ops: {ops}")).format(
            type=gettext(TYPES.get(info["type"], info["type"])), ops=info["ops"]
        ) if info else hint["info"]
        close = gettext(_("did you mean '{close}' ({info})?")).format(
            close=hint["close"], info=said_info)
        return f"{head}; {close}"
    return say_pattern(text, PATTERNS, gettext, _WORDS)


_UNFILLABLE = "no value of the parameters' types fits this rule: "


def say(text: str, gettext: Gettext) -> str | None:
    """`text` through the catalogue, or None when it is not a rule message."""
    if text.startswith(_UNFILLABLE):  # a template refused: the rule error it would give
        inner = say(text[len(_UNFILLABLE):], gettext)
        head = gettext(_("no value of the parameters' types fits this rule"))
        return None if inner is None else f"{head}: {inner}"
    path = _PATH.match(text)
    if path:
        body = say(path["body"], gettext)
        return None if body is None else f"{path['path']}: {body}"
    return _body(text, gettext)


known = known_only(say)  # for core.i18n.MESSAGE_TRANSLATORS
register_messages(known)
