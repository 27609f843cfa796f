"""Showing the reasons stored in English (campaign state reasons, approval steps) in the
reader's language. Stored text stays English (audit, API); only the console translates.
Free text typed by people (a pause reason, a rejection comment) is shown as typed."""

from __future__ import annotations

import re
from collections.abc import Callable

from telcamp.core.i18n import _

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
LEVELS = (_("county"), _("city"), _("province"))


def say(text: str | None, gettext: Callable[[str], str]) -> str:
    """`text` in the language of `gettext` (the template's `_`)."""
    if not text:
        return ""
    for pattern, msgid in PATTERNS:
        found = pattern.match(text)
        if found:
            fields = {k: gettext(v) if k in ("level", "head") else v
                      for k, v in found.groupdict().items()}
            return gettext(msgid).format(**fields)
    return gettext(text)
