"""What changed since the last submission, field by field, for the approver: a cell's
control share, one language's SMS text, a wave's window — not the whole cells list."""

from __future__ import annotations

import json
from typing import Any

from telcamp.core.i18n import _

# what the words are in the reader's language (the template translates `what`)
WORDS = (_("cell"), _("wave"), _("added"), _("removed"), _("text"))


def _show(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _line(where: list[str], field: str, before: Any, after: Any) -> dict[str, Any]:
    return {"where": where, "field": field, "before": _show(before), "after": _show(after)}


def _cell_lines(name: str, old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for key in new:
        if key in ("name", "messages") or old.get(key) == new.get(key):
            continue
        out.append(_line(["cell", name], key, old.get(key), new.get(key)))
    old_msgs, new_msgs = old.get("messages") or {}, new.get("messages") or {}
    for ch in sorted(set(old_msgs) | set(new_msgs)):
        before, after = old_msgs.get(ch) or {}, new_msgs.get(ch) or {}
        if isinstance(before, str) or isinstance(after, str):
            before, after = {"": before}, {"": after}
        for lang in sorted(set(before) | set(after)):
            if before.get(lang) != after.get(lang):
                out.append(_line(["cell", name, lang, ch], "text", before.get(lang),
                                 after.get(lang)))
    return out


def lines(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored changes ([{field, before, after}]) as one line per changed value:
    {"where": ["cell", "medium"], "field": "control_pct", "before": "20", "after": "15"}."""
    out: list[dict[str, Any]] = []
    for ch in changes:
        field, before, after = ch.get("field", ""), ch.get("before"), ch.get("after")
        if field == "cells" and isinstance(before, list) and isinstance(after, list):
            old = {c.get("name"): c for c in before if isinstance(c, dict)}
            new = {c.get("name"): c for c in after if isinstance(c, dict)}
            for name in new:
                if name not in old:
                    out.append(_line(["cell", str(name)], "added", None, "+"))
                else:
                    out += _cell_lines(str(name), old[name], new[name])
            for name in old:
                if name not in new:
                    out.append(_line(["cell", str(name)], "removed", "−", None))
            order_before = [c.get("name") for c in before if isinstance(c, dict)]
            order_after = [c.get("name") for c in after if isinstance(c, dict)]
            if set(order_before) == set(order_after) and order_before != order_after:
                out.append(_line([], "cells", ", ".join(map(str, order_before)),
                                 ", ".join(map(str, order_after))))
        elif field == "waves" and isinstance(before, list) and isinstance(after, list):
            for i in range(max(len(before), len(after))):
                b = before[i] if i < len(before) else {}
                a = after[i] if i < len(after) else {}
                label = str((a or b).get("channel", i))
                if a.get("cell_name") or b.get("cell_name"):
                    label += f" · {a.get('cell_name') or b.get('cell_name')}"
                for key in sorted(set(a) | set(b)):
                    if a.get(key) != b.get(key):
                        out.append(_line(["wave", label], key, b.get(key), a.get(key)))
        else:
            out.append(_line([], field, before, after))
    return out
