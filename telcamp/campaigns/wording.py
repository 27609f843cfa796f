"""Showing the reasons stored in English (campaign state reasons, approval steps) and the
campaign domain's validation messages in the reader's language. Stored text stays
English (audit, logs) and API errors keep their stable English `code`; the console and
the API's `message` are translated (the API through core.i18n.say_message, by
?lang=, the lang cookie or Accept-Language). Free text typed by people (a pause reason,
a rejection comment) is shown as typed."""

from __future__ import annotations

import re
from collections.abc import Callable

from telcamp.core.i18n import _, register_messages

# Fixed reasons written by lifecycle transitions (approvals.py, schedule.py, service.py).
FIXED = (
    _("launched manually"), _("paused"), _("resumed"), _("cancelled"),
    _("submitted for approval"), _("approved; launches at start"), _("started on schedule"),
    _("end of schedule"), _("edited after submission"), _("edited after rejection"),
    _("the audience is empty"),
)
# Reasons with values in them: pattern of the stored text → msgid with named fields.
# Fields named `level` or `head` are region levels and are translated too.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^approved by (?P<who>.+)$"), _("approved by {who}")),
    (re.compile(r"^(?P<level>\w+) campaign → (?P<head>\w+) head$"),
     _("{level} campaign → {head} head")),
    (re.compile(r"^budget (?P<budget>\S+) above (?P<limit>\S+)$"),
     _("budget {budget} above {limit}")),
    # cell counts and rehearsal warnings (cell_counts.py, rehearsal.py)
    (re.compile(r"^cell (?P<cell>.+): (?P<n>\d+) subscribers also match the earlier cell "
                r"(?P<other>.+) and go there \(first match wins\)$"),
     _("cell {cell}: {n} subscribers also match the earlier cell {other} and go there "
       "(first match wins)")),
    (re.compile(r"^cell (?P<cell>.+) comes out empty \(all its matches go to earlier "
                r"cells\)$"),
     _("cell {cell} comes out empty (all its matches go to earlier cells)")),
    (re.compile(r"^cell (?P<cell>.+) comes out empty$"), _("cell {cell} comes out empty")),
    (re.compile(r"^(?P<n>\d+) subscribers match no cell and are left out \(add a default "
                r"cell without a rule to include them\)$"),
     _("{n} subscribers match no cell and are left out (add a default cell without a rule "
       "to include them)")),
)
# Validation messages (service.py, cells.py, messages.py, forms.py, approvals.py, ...).
FIXED_ERRORS = (
    _("the schedule ends before it starts"), _("a campaign needs at least one cell"),
    _("set the campaign's start and end before submitting"),
    _("the campaign has no audience snapshot"), _("the campaign has no cells"),
    _("say why the campaign is rejected"), _("the program ends before it starts"),
    _("you cannot approve or reject a campaign you created or submitted"),
    _("the campaign has no cells; add at least one"),
    _("only an operator-wide admin may configure approval chains"),
    _("a weekly wave needs at least one weekday"),
    _("type a subscriber's number, or choose the campaign's audience snapshot to preview a "
      "random member"),
)
_CELL = r"(?P<where>cells\[\d+\]) \((?P<cell>.*)\)"
ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^cell (?P<cell>.+) gets no one from the audience snapshot; type a "
                r"subscriber's number to preview$"),
     _("cell {cell} gets no one from the audience snapshot; type a subscriber's number to "
       "preview")),
    (re.compile(_CELL + r": control percentage (?P<pct>\S+) is outside 0–(?P<max>\S+)$"),
     _("{where} ({cell}): control percentage {pct} is outside 0–{max}")),
    (re.compile(_CELL + r": choose at least one channel$"),
     _("{where} ({cell}): choose at least one channel")),
    (re.compile(_CELL + r": the default cell \(no rule\) must be the last one, otherwise "
                r"the cells after it can never match$"),
     _("{where} ({cell}): the default cell (no rule) must be the last one, otherwise the "
       "cells after it can never match")),
    (re.compile(_CELL + r": the send window ends before it starts$"),
     _("{where} ({cell}): the send window ends before it starts")),
    (re.compile(r"^(?P<where>cells\[\d+\]): cell name (?P<name>.+) is used twice$"),
     _("{where}: cell name {name} is used twice")),
    (re.compile(r"^(?P<where>cells\[\d+\]): value tier must be one of (?P<tiers>.+), "
                r"got (?P<got>.+)$"),
     _("{where}: value tier must be one of {tiers}, got {got}")),
    (re.compile(r"^(?P<where>cells\[\d+\]): the rule is not JSON \((?P<detail>.+)\)$"),
     _("{where}: the rule is not JSON ({detail})")),
    (re.compile(r"^(?P<name>start_at|end_at) (?P<date>\S+) is outside the program's period "
                r"(?P<start>\S+) – (?P<end>\S+)$"),
     _("{name} {date} is outside the program's period {start} – {end}")),
    (re.compile(r"^budget (?P<budget>\S+) is above the program's remaining budget "
                r"(?P<left>\S+)$"),
     _("budget {budget} is above the program's remaining budget {left}")),
    (re.compile(r"^budget (?P<budget>\S+) is below the (?P<committed>\S+) its campaigns "
                r"already committed$"),
     _("budget {budget} is below the {committed} its campaigns already committed")),
    (re.compile(r"^(?P<where>\S+): unknown template field\(s\) (?P<fields>.+); subscriber "
                r"fields are e\.g\. (?P<examples>.+)$"),
     _("{where}: unknown template field(s) {fields}; subscriber fields are e.g. "
       "{examples}")),
    (re.compile(r"^(?P<where>\S+): SMS needs (?P<parts>\d+) parts \((?P<length>\d+) "
                r"characters, (?P<encoding>\S+)\); the limit is (?P<limit>\d+) parts$"),
     _("{where}: SMS needs {parts} parts ({length} characters, {encoding}); the limit is "
       "{limit} parts")),
    (re.compile(r"^(?P<where>\S+): (?P<n>\d+) characters is too long for (?P<channel>\S+) "
                r"\(limit (?P<cap>\d+)\)$"),
     _("{where}: {n} characters is too long for {channel} (limit {cap})")),
    (re.compile(r"^message template has a syntax error at line (?P<line>\d+): "
                r"(?P<detail>.+)$"),
     _("message template has a syntax error at line {line}: {detail}")),
    (re.compile(r"^waves\[(?P<i>\d+)\]: the send window ends before it starts$"),
     _("waves[{i}]: the send window ends before it starts")),
    (re.compile(r"^(?P<where>waves\[\d+\]): (?P<token>'.*') is not a weekday \(Mon–Sun or "
                r"0–6, 0 = Monday\)$"),
     _("{where}: {token} is not a weekday (Mon–Sun or 0–6, 0 = Monday)")),
    (re.compile(r"^(?P<where>waves\[\d+\]): a weekly wave needs at least one weekday$"),
     _("{where}: a weekly wave needs at least one weekday")),
    (re.compile(r"^snapshot_id: there is no audience snapshot (?P<id>\d+) in your region; "
                r"pick one from the list$"),
     _("snapshot_id: there is no audience snapshot {id} in your region; pick one from the "
       "list")),
    (re.compile(r"^snapshot_id: (?P<raw>'.*') is not a snapshot number; pick one from the "
                r"list$"),
     _("snapshot_id: {raw} is not a snapshot number; pick one from the list")),
    (re.compile(r"^(?P<key>\S+): (?P<raw>'.*') is not a number$"),
     _("{key}: {raw} is not a number")),
    (re.compile(r"^(?P<key>\S+): (?P<raw>'.*') is not a date \(YYYY-MM-DD\)$"),
     _("{key}: {raw} is not a date (YYYY-MM-DD)")),
    (re.compile(r"^cell (?P<cell>.+): (?P<n>\d+) subscribers also match an earlier cell and "
                r"go there \(first match wins\)$"),
     _("cell {cell}: {n} subscribers also match an earlier cell and go there (first match "
       "wins)")),
    (re.compile(r"^forecast cost (?P<cost>\S+) is above the budget (?P<budget>\S+)$"),
     _("forecast cost {cost} is above the budget {budget}")),
    (re.compile(r"^cell (?P<cell>.+): no (?P<channel>\w+) message \(its (?P=channel) contacts "
                r"would fail at dispatch\)$"),
     _("cell {cell}: no {channel} message (its {channel} contacts would fail at dispatch)")),
    (re.compile(r"^cell (?P<cell>.+): (?P<n>\d+) (?P<channel>\w+) contacts speak a language "
                r"with no message \((?P<langs>.+)\); they get the (?P<fallback>\S+) text$"),
     _("cell {cell}: {n} {channel} contacts speak a language with no message ({langs}); "
       "they get the {fallback} text")),
    (re.compile(r"^cell (?P<cell>.+) gets no subscribers$"),
     _("cell {cell} gets no subscribers")),
    (re.compile(r"^campaign (?P<id>\d+) is (?P<state>\w+); only draft, rejected, submitted "
                r"or approved campaigns can be edited$"),
     _("campaign {id} is {state}; only draft, rejected, submitted or approved campaigns can "
       "be edited")),
    # programs (service.update_program / delete_program)
    (re.compile(r"^campaign (?P<id>\d+) \((?P<name>.*)\) runs on (?P<date>\S+), outside the "
                r"new period (?P<start>\S+) – (?P<end>\S+)$"),
     _("campaign {id} ({name}) runs on {date}, outside the new period {start} – {end}")),
    (re.compile(r"^program (?P<id>\d+) has campaigns beyond draft or cancelled: "
                r"(?P<which>.+)$"),
     _("program {id} has campaigns beyond draft or cancelled: {which}")),
    # the approval chain (chain.py)
    (re.compile(r"^(?P<where>levels(?:\.\w+)?): (?P<owner>\w+) campaigns cannot be approved at "
                r"(?P<level>\w+) level \(below the campaign's own region\)$"),
     _("{where}: {owner} campaigns cannot be approved at {level} level (below the "
       "campaign's own region)")),
    (re.compile(r"^levels: give the approvers of (?P<which>.+) campaigns too$"),
     _("levels: give the approvers of {which} campaigns too")),
    (re.compile(r"^the campaign cannot be submitted: (?P<problems>.+)$"),
     _("the campaign cannot be submitted: {problems}")),
)
LEVELS = (_("county"), _("city"), _("province"))
# Fields whose value is itself a stored English word to be translated.
_WORDS = ("level", "head", "state", "owner")


def say(text: str | None, gettext: Callable[[str], str]) -> str:
    """`text` in the language of `gettext` (the template's `_`)."""
    if not text:
        return ""
    for pattern, msgid in PATTERNS + ERRORS:
        found = pattern.match(text)
        if found:
            fields = {k: gettext(v) if k in _WORDS else v
                      for k, v in found.groupdict().items()}
            if "problems" in fields:  # "a; b; c": each problem is a message of its own
                fields["problems"] = "; ".join(say(p, gettext)
                                               for p in fields["problems"].split("; "))
            return gettext(msgid).format(**fields)
    return gettext(text)


def known(text: str, gettext: Callable[[str], str]) -> str | None:
    """For core.i18n.MESSAGE_TRANSLATORS: the campaign domain's messages (None: not ours,
    or no translation)."""
    said = say(text, gettext)
    return said if said != text else None


register_messages(known)
