"""List messages in the reader's language: why a number, an expiry or an import file was
refused. The checks (schemas.py, importer.py, service.py) write English, which the CLI,
logs and the API's stable `code` keep; the console pages (through the `say` template
function) and the API's `message` (through core.i18n.say_message) say them in the
reader's language. The number or date the user typed stays as typed.

A file refusal reads "FILE rejected, nothing loaded:" (or, when the good rows can still be
imported by confirming, "FILE: nothing imported yet; valid rows: …") then one
"FILE:LINE [COLUMN]: 'VALUE': REASON" per bad row; each part is said on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from telcamp.core.i18n import _, known_only, register_messages, say_pattern

Gettext = Callable[[str], str]

# English (whole message, or the reason of one rejected row) → msgid with the same fields
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile("^" + p + "$", re.S), m) for p, m in (
        (r"empty msisdn", _("empty msisdn")),
        (r"msisdn (?P<v>.+) has no country code; write it with one first, e\.g\. "
         r"\+7 \(912\) 000-00-03",
         _("msisdn {v} has no country code; write it with one first, e.g. "
           "+7 (912) 000-00-03")),
        (r"no country code; write it with one first, e\.g\. \+7 \(912\) 000-00-03",
         _("no country code; write it with one first, e.g. +7 (912) 000-00-03")),
        (r"msisdn (?P<v>.+) must be digits only \(E\.164; spaces, - \. \( \) and a leading "
         r"\+ are allowed\)",
         _("msisdn {v} must be digits only (E.164; spaces, - . ( ) and a leading + are "
           "allowed)")),
        (r"must be digits only \(E\.164; spaces, - \. \( \) and a leading \+ are allowed\)",
         _("must be digits only (E.164; spaces, - . ( ) and a leading + are allowed)")),
        (r"msisdn (?P<v>.+) must have 8 to 15 digits, not (?P<n>\d+)",
         _("msisdn {v} must have 8 to 15 digits, not {n}")),
        (r"must have 8 to 15 digits, not (?P<n>\d+)", _("must have 8 to 15 digits, not {n}")),
        (r"msisdn (?P<v>.+) must start with the country code, not 0",
         _("msisdn {v} must start with the country code, not 0")),
        (r"msisdn (?P<v>.+) is not a number of this operator's country \(\+(?P<cc>\d+)\); "
         r"write it with the country code",
         _("msisdn {v} is not a number of this operator's country (+{cc}); write it with "
           "the country code")),
        (r"msisdn (?P<v>.+) is a number of another country; only numbers of this "
         r"operator's country \(\+(?P<cc>\d+)\) can be listed",
         _("msisdn {v} is a number of another country; only numbers of this operator's "
           "country (+{cc}) can be listed")),
        (r"a number of another country; only numbers of this operator's country "
         r"\(\+(?P<cc>\d+)\) can be listed",
         _("a number of another country; only numbers of this operator's country (+{cc}) "
           "can be listed")),
        (r"not a number of this operator's country \(\+(?P<cc>\d+)\); write it with the "
         r"country code",
         _("not a number of this operator's country (+{cc}); write it with the country "
           "code")),
        (r"must start with the country code, not 0",
         _("must start with the country code, not 0")),
        (r"expiry (?P<v>.+) is not an ISO date \(2026-12-31\) or datetime "
         r"\(2026-12-31T18:00:00\+03:00\)",
         _("expiry {v} is not an ISO date (2026-12-31) or datetime "
           "(2026-12-31T18:00:00+03:00)")),
        (r"expiry (?P<v>.+) is not an ISO date \(2026-12-31\) or datetime",
         _("expiry {v} is not an ISO date (2026-12-31) or datetime")),
        (r"expiry (?P<v>.+) is in the past", _("expiry {v} is in the past")),
        (r"too many columns \((?P<n>\d+)\); expected msisdn, reason, expiry",
         _("too many columns ({n}); expected msisdn, reason, expiry")),
        (r"reason longer than 500 characters", _("reason longer than 500 characters")),
        (r"duplicate of line (?P<n>\d+)", _("duplicate of line {n}")),
        (r"the file has no numbers \(empty, or a header only\)",
         _("the file has no numbers (empty, or a header only)")),
        (r"the header has no msisdn column", _("the header has no msisdn column")),
        (r"the file is empty", _("the file is empty")),
        (r"a list named (?P<name>.+) already exists in region operator-wide",
         _("a list named {name} already exists operator-wide")),
        (r"a list named (?P<name>.+) already exists in region (?P<region>\S+)",
         _("a list named {name} already exists in region {region}")),
        (r"(?P<number>\S+) is not on list (?P<name>.+)", _("{number} is not on list {name}")),
        (r"list (?P<id>\d+) belongs to region (?P<region>\S+); only that region's users can "
         r"change it",
         _("list {id} belongs to region {region}; only that region's users can change it")),
        (r"list (?P<id>\d+) is operator-wide; only users without a region \(operator IT, the "
         r"CLI without --region\) can change it",
         _("list {id} is operator-wide; only users without a region (operator IT, the CLI "
           "without --region) can change it")),
        (r"no row of the file is valid; nothing to import",
         _("no row of the file is valid; nothing to import")),
        (r"unknown column (?P<name>.+); allowed: msisdn, reason, expiry",
         _("unknown column {name}; allowed: msisdn, reason, expiry")),
        (r"column (?P<name>.+) appears twice", _("column {name} appears twice")),
        (r"not UTF-8 \(byte (?P<byte>0x[0-9a-f]{2})\); save the file as UTF-8 CSV",
         _("not UTF-8 (byte {byte}); save the file as UTF-8 CSV")),
        # a list named in rules (service.list_users): the users stay as written
        (r"list (?P<name>.+) is referred to by name in: (?P<users>.+); refer to it by id "
         r"\((?P<id>\d+)\) there first, or keep the name",
         _("list {name} is referred to by name in: {users}; refer to it by id ({id}) there "
           "first, or keep the name")),
        # overrides and list owners (exclusions.py, service.py)
        (r"campaign (?P<c>\d+) already overrides list (?P<l>\d+)",
         _("campaign {c} already overrides list {l}")),
        (r"campaign (?P<c>\d+) has no override of list (?P<l>\d+)",
         _("campaign {c} has no override of list {l}")),
        (r"list (?P<name>.+) \((?P<type>\w+)\) is not a default exclusion; nothing to "
         r"override",
         _("list {name} ({type}) is not a default exclusion; nothing to override")),
        (r"an override needs a reason", _("an override needs a reason")),
        (r"region (?P<r>\S+) not found", _("region {r} not found")),
        (r"campaign id (?P<v>.+) is not a whole number",
         _("campaign id {v} is not a whole number")),
        (r"list (?P<id>\d+) (?P<name>.+) is still used, so it cannot be deleted: "
         r"(?P<users>.+)",
         _("list {id} {name} is still used, so it cannot be deleted: {users}")),
    )
)
_REFUSED = re.compile(r"^(?P<file>.+) rejected, nothing loaded(?: \(and (?P<more>\d+) "
                      r"more\))?:$")
# one rejected row: FILE:LINE [COLUMN]: 'VALUE': REASON (value and column optional)
_ROW = re.compile(r"^(?P<where>\S.*?(?::\d+)?(?: \[\w+\])?): (?:(?P<value>'[^']*'): )?"
                  r"(?P<reason>.+)$")
# the heading of a file with bad rows that can still be imported less them
# (importer.partial_heading)
_PARTIAL = re.compile(r"^(?P<file>.+): nothing imported yet; valid rows: (?P<valid>\d+), "
                      r"rejected: (?P<rejected>\d+)\. Confirm the partial import to import "
                      r"the valid rows \(API confirm_partial=true, CLI --accept-partial\)\. "
                      r"Rejected rows:$")


def _line(text: str, gettext: Gettext) -> str | None:
    plain = text.strip()
    indent = text[:len(text) - len(text.lstrip())]
    refused = _REFUSED.match(plain)
    if refused:
        head = gettext(_("{file} rejected, nothing loaded")).format(file=refused["file"])
        if refused["more"]:
            head += " " + gettext(_("(and {n} more)")).format(n=refused["more"])
        return head + ":"
    partial = _PARTIAL.match(plain)
    if partial:
        return gettext(_("{file}: nothing imported yet; valid rows: {valid}, rejected: "
                         "{rejected}. Confirm the partial import to import the valid rows "
                         "(API confirm_partial=true, CLI --accept-partial). Rejected rows:")
                       ).format(**partial.groupdict())
    said = say_pattern(plain, PATTERNS, gettext)
    if said is not None:
        return indent + said
    row = _ROW.match(plain)
    if row:
        reason = say_pattern(row["reason"], PATTERNS, gettext)
        if reason is not None:
            value = f"{row['value']}: " if row["value"] else ""
            return f"{indent}{row['where']}: {value}{reason}"
    return None


def say(text: str, gettext: Gettext) -> str | None:
    """`text` (one message, or a file refusal line by line) in the language of
    `gettext`; None when a line is not one of the list messages."""
    lines = [_line(part, gettext) for part in text.split("\n")]
    if any(line is None for line in lines):
        return None
    return "\n".join(line for line in lines if line is not None)


known = known_only(say)  # for core.i18n.MESSAGE_TRANSLATORS
register_messages(known)
