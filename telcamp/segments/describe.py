"""A rule in words, built from the catalogue's sentence per operator (à la Datasette):
{"usage": "data_mb", "days": 30, "op": ">=", "value": 1000} → "mobile data over 30 days
at least 1000 MB". Shown in the builder, the segment list and funnel labels.

Every piece of wording is a msgid (operator sentences, field and metric labels, units,
"and"/"or"/"not", list and contact leaves), translated with the reader's `gettext`, so
the same rule reads "ARPU за 3 месяца не менее 50 у.е." in Russian. Values (codes such
as value tiers, list and segment names) are shown as written in the rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from telcamp.core.i18n import _, format_value, get_translator
from telcamp.segments.catalogue import OP_SENTENCES, Catalogue
from telcamp.segments.rules import (
    AllOf,
    AnyOf,
    Contacted,
    FieldLeaf,
    InList,
    InSegment,
    NotOf,
    Rule,
    UsageLeaf,
)

Gettext = Callable[[str], str]
# A name for a list or segment the rule refers to by id (None: show the reference as is)
Namer = Callable[[str | int], str | None]

# Coded values of profile fields in words: the rule keeps the code, the sentence says
# the word ("value tier is high" reads "уровень ценности: высокая"), as the charts do.
VALUE_WORDS: dict[str, dict[str, str]] = {
    "value_tier": {"low": _("low"), "medium": _("medium"), "high": _("high")},
    "status": {"active": _("active"), "suspended": _("suspended"), "churned": _("churned")},
    "payment_type": {"prepaid": _("prepaid"), "postpaid": _("postpaid")},
    "gender": {"m": _("male"), "f": _("female"), "u": _("unknown")},
}


def _coded(field: str, value: Any, tr: Gettext) -> Any:
    words = VALUE_WORDS.get(field)
    if words is None:
        return value
    if isinstance(value, list):
        return [_coded(field, v, tr) for v in value]
    return tr(words[value]) if isinstance(value, str) and value in words else value


# Usage metric labels and units (defined in telcamp.warehouse.schema as plain strings);
# marked here so the catalogues carry them.
METRIC_WORDS = (
    _("voice minutes, both directions"), _("outgoing voice minutes"), _("SMS sent"),
    _("MMS sent"), _("mobile data"), _("voice minutes in roaming"),
    _("long-distance calls made"), _("ringback-tone records"), _("charges"),
    _("days with any usage"),
)
UNITS = (_("min"), _("count"), _("MB"), _("currency"), _("days"), _("years"))
# Funnel step labels built by telcamp.lists.exclusions (translated by `exclusion_label`)
LIST_TYPES = (_("blacklist"), _("greylist"), _("optout"), _("test"), _("custom"))


def describe_value(value: Any, tr: Gettext, locale: str | None = None) -> str:
    if isinstance(value, list):
        shown = [describe_value(v, tr, locale) for v in value]
        # "12,5, 13" would not read as two values where the comma is the decimal mark
        return ("; " if any("," in v for v in shown) else ", ").join(shown)
    if isinstance(value, bool):
        return tr(_("yes")) if value else tr(_("no"))
    if isinstance(value, int | float):
        return format_value(value, locale)
    return str(value)


def sentence(op: str, label: str, value: Any, unit: str | None, tr: Gettext,
             locale: str | None = None) -> str:
    """One leaf in words, e.g. 'ARPU over 3 months at least 50 currency'."""
    if op == "is_null" and value is False:
        return tr(_("{f} is known")).format(f=label)
    shown = describe_value(value, tr, locale)
    unit = unit if unit and op not in {"in", "not_in", "is_null"} and unit not in {
        "0-1", "0-100"} else None
    if op == "between" and isinstance(value, list) and len(value) == 2:
        low, high = describe_value(value[0], tr, locale), describe_value(value[1], tr, locale)
        # one msgid with the unit, so a language can repeat it ("20岁与35岁之间")
        shown = (tr(_("{low} and {high} {unit}")).format(low=low, high=high, unit=tr(unit))
                 if unit else tr(_("{low} and {high}")).format(low=low, high=high))
    elif unit:
        shown = tr(_("{value} {unit}")).format(value=shown, unit=tr(unit))
    return tr(OP_SENTENCES[op]).format(f=label, v=shown)


def describe(rule: Rule, catalogue: Catalogue | None = None, gettext: Gettext | None = None,
             *, list_name: Namer | None = None, segment_name: Namer | None = None,
             locale: str | None = None) -> str:
    """The rule in words, in the language of `gettext`; numbers with the decimal mark of
    `locale` (English's point without one)."""
    cat = catalogue or Catalogue()
    tr: Gettext = gettext or (lambda s: s)

    def named(ref: str | int, namer: Namer | None) -> str:
        name = namer(ref) if namer is not None and isinstance(ref, int) else None
        return name or str(ref)

    def words(node: Rule, top: bool = False) -> str:
        if isinstance(node, AllOf | AnyOf):
            children = node.all if isinstance(node, AllOf) else node.any
            if not children:
                return tr(_("everyone")) if isinstance(node, AllOf) else tr(_("no one"))
            joint = (tr(_("{left} and {right}")) if isinstance(node, AllOf)
                     else tr(_("{left} or {right}")))
            inner = words(children[0])
            for child in children[1:]:
                inner = joint.format(left=inner, right=words(child))
            return inner if top or len(children) == 1 else f"({inner})"
        if isinstance(node, NotOf):
            return tr(_("not {rule}")).format(rule=words(node.not_))
        if isinstance(node, FieldLeaf):
            info = cat.fields.get(node.field)
            label = tr(info.label) if info else node.field
            return sentence(node.op, label, _coded(node.field, node.value, tr),
                            info.unit if info else None, tr, locale)
        if isinstance(node, UsageLeaf):
            metric = cat.metrics.get(node.usage)
            # "over 1 days" is not English: one day has its own sentence
            over = (_("{metric} over the last day") if node.days == 1
                    else _("{metric} over {days} days"))
            label = tr(over).format(
                metric=tr(metric.label) if metric else node.usage, days=node.days)
            return sentence(node.op, label, node.value, metric.unit if metric else None, tr,
                            locale)
        if isinstance(node, InList):
            return tr(_("on list {name}")).format(name=named(node.in_list, list_name))
        if isinstance(node, InSegment):
            return tr(_("in segment {name}")).format(name=named(node.in_segment, segment_name))
        if isinstance(node, Contacted):
            spec = node.contacted
            text = _contacted_words(spec.days, tr)
            if spec.campaign:
                text += " " + tr(_("by campaign {campaign}")).format(campaign=spec.campaign)
            if spec.channel:
                text += " " + tr(_("by {channel}")).format(channel=spec.channel)
            return text
        return str(node)

    return words(rule, top=True)


def _contacted_words(days: int | None, tr: Gettext) -> str:
    if days == 1:
        return tr(_("contacted in the last day"))
    return tr(_("contacted in the last {days} days")).format(days=days)


def exclusion_label(kind: str, *, list_type: str | None, list_name: str | None,
                    days: int | None, gettext: Gettext | None = None) -> str:
    """A funnel step in words: "blacklist: Complaints", "greylist (another region)",
    "contacted in the last 7 days". `list_name` is None for a list the reader may not
    see (its name is not shown). Without `gettext` (a snapshot's stored funnel), the
    English catalogue's words, as the live English funnel shows them ("opted out")."""
    tr: Gettext = gettext or get_translator("en").gettext
    if kind == "recent_contact":
        return _contacted_words(days, tr)
    kind_word = tr(list_type or "list")
    if list_name is None:
        return tr(_("{type} (another region)")).format(type=kind_word)
    return tr(_("{type}: {name}")).format(type=kind_word, name=list_name)


def stored_step_words(label: str, gettext: Gettext) -> str:
    """A snapshot's stored funnel step (written in English when it was taken, see
    exclusion_label) in the reader's language: "matched", "contacted in the last 7 days",
    "blacklist: Complaints", "greylist (another region)". A list's own name stays as its
    owner typed it; a label of another form is shown as stored."""
    en = get_translator("en").gettext
    if label == "matched":
        return gettext(_("matched"))
    if label == _contacted_words(1, en):
        return _contacted_words(1, gettext)
    match = re.fullmatch(re.escape(en(_("contacted in the last {days} days"))).replace(
        re.escape("{days}"), r"(\d+)"), label)
    if match:
        return _contacted_words(int(match.group(1)), gettext)
    for kind in (*LIST_TYPES, "list"):
        word = en(kind)
        if label == en(_("{type} (another region)")).format(type=word):
            return gettext(_("{type} (another region)")).format(type=gettext(kind))
        prefix = en(_("{type}: {name}")).format(type=word, name="")
        if label.startswith(prefix):
            return gettext(_("{type}: {name}")).format(type=gettext(kind),
                                                        name=label[len(prefix):])
    return label
