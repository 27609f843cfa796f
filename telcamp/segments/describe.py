"""A rule in words, built from the catalogue's sentence per operator (à la Datasette):
{"usage": "data_mb", "days": 30, "op": ">=", "value": 1000} → "mobile data over 30 days
at least 1000 MB". Shown in the builder, the segment list and funnel labels."""

from __future__ import annotations

from collections.abc import Callable

from telcamp.segments.catalogue import Catalogue, sentence
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


def describe(rule: Rule, catalogue: Catalogue | None = None,
             gettext: Callable[[str], str] | None = None) -> str:
    cat = catalogue or Catalogue()
    tr: Callable[[str], str] = gettext or (lambda s: s)

    def words(node: Rule, top: bool = False) -> str:
        if isinstance(node, AllOf):
            if not node.all:
                return "everyone"
            inner = " and ".join(words(c) for c in node.all)
            return inner if top or len(node.all) == 1 else f"({inner})"
        if isinstance(node, AnyOf):
            inner = " or ".join(words(c) for c in node.any)
            return inner if top or len(node.any) == 1 else f"({inner})"
        if isinstance(node, NotOf):
            return f"not {words(node.not_)}"
        if isinstance(node, FieldLeaf):
            info = cat.fields.get(node.field)
            label = tr(info.label) if info else node.field
            return sentence(node.op, label, node.value, info.unit if info else None)
        if isinstance(node, UsageLeaf):
            metric = cat.metrics.get(node.usage)
            label = f"{metric.label if metric else node.usage} over {node.days} days"
            return sentence(node.op, label, node.value, metric.unit if metric else None)
        if isinstance(node, InList):
            return f"on list {node.in_list}"
        if isinstance(node, InSegment):
            return f"in segment {node.in_segment}"
        if isinstance(node, Contacted):
            spec = node.contacted
            extra = "".join([f" by campaign {spec.campaign}" if spec.campaign else "",
                             f" by {spec.channel}" if spec.channel else ""])
            return f"contacted in the last {spec.days} days{extra}"
        return str(node)

    return words(rule, top=True)
