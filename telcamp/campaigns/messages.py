"""Campaign messages: sandboxed templates over subscriber fields, preview, SMS encoding.

Templates use Jinja's sandbox with StrictUndefined, so a message can read subscriber
fields ("Hello {{ first_name }}, {{ data_mb_30d|round }} MB") but cannot reach Python
internals, and a field that does not exist is an error when the message is written, not
a blank in ten million SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from telcamp.core.errors import ValidationFailed
from telcamp.core.settings import get_settings

# GSM 03.38 default alphabet; the extension table's characters cost two septets.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
# Characters per single SMS and per part of a concatenated one (the UDH takes the rest).
SMS_LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}
# Other channels' limits in characters (email bodies are effectively unlimited).
CHANNEL_CHAR_LIMITS = {"push": 240, "ivr": 1000, "call": 4000, "email": 100_000, "mms": 5000}

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@dataclass(frozen=True)
class SmsInfo:
    encoding: str
    length: int  # in septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: int
    per_part: int

    def as_dict(self) -> dict[str, Any]:
        return {"encoding": self.encoding, "length": self.length, "parts": self.parts,
                "per_part": self.per_part}


def sms_info(text: str) -> SmsInfo:
    """Encoding and number of parts an SMS of this text needs."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        encoding = "GSM-7"
        length = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
    else:
        encoding = "UCS-2"
        # characters outside the BMP take two UTF-16 code units
        length = len(text.encode("utf-16-le")) // 2
    single, per_part = SMS_LIMITS[encoding]
    if length <= single:
        return SmsInfo(encoding, length, 1 if length else 0, single)
    return SmsInfo(encoding, length, -(-length // per_part), per_part)


def template_fields(source: str) -> set[str]:
    """The subscriber fields a template reads; raises on a syntax error."""
    try:
        parsed = _env.parse(source)
    except TemplateSyntaxError as exc:
        raise ValidationFailed(
            f"message template has a syntax error at line {exc.lineno}: {exc.message}",
            field="messages",
        ) from exc
    return set(meta.find_undeclared_variables(parsed))


def check_message(
    source: str, *, channel: str, fields: set[str] | None, where: str = "messages"
) -> None:
    """Refuse unknown template fields and texts over the channel's limit."""
    used = template_fields(source)
    if fields is not None:
        unknown = sorted(used - fields)
        if unknown:
            raise ValidationFailed(
                f"{where}: unknown template field(s) {', '.join(unknown)}; "
                f"subscriber fields are e.g. {', '.join(sorted(fields)[:8])}",
                field=where,
            )
    # The fixed text is what we can measure before personalisation; fields add to it,
    # so the check uses the template with each placeholder counted as written.
    if channel == "sms":
        info = sms_info(source)
        limit = get_settings().sms_max_parts
        if info.parts > limit:
            raise ValidationFailed(
                f"{where}: SMS needs {info.parts} parts ({info.length} characters, "
                f"{info.encoding}); the limit is {limit} parts",
                field=where,
            )
    else:
        cap = CHANNEL_CHAR_LIMITS.get(channel)
        if cap is not None and len(source) > cap:
            raise ValidationFailed(
                f"{where}: {len(source)} characters is too long for {channel} "
                f"(limit {cap})",
                field=where,
            )


def render(source: str, subscriber: dict[str, Any]) -> str:
    """Render a template for one subscriber (preview and dispatch)."""
    try:
        return _env.from_string(source).render(**subscriber)
    except UndefinedError as exc:
        raise ValidationFailed(f"message template: {exc.message}", field="messages") from exc
    except SecurityError as exc:
        raise ValidationFailed(f"message template not allowed: {exc}", field="messages") from exc
    except TemplateSyntaxError as exc:
        raise ValidationFailed(
            f"message template has a syntax error at line {exc.lineno}: {exc.message}",
            field="messages",
        ) from exc


def offer_fields(cell: Any) -> dict[str, Any]:
    """Fields a message may use besides the subscriber's: its cell's offer and reward.

    Dispatch merges these into the profile fields when it renders (one dict per cell), so a
    template checked at save time renders the same way at send time.
    """
    campaign = cell.campaign
    size = cell.reward_size
    if size is not None and float(size).is_integer():
        # the same text on every database: "50", not "50" on SQLite and "50.0" elsewhere
        size = int(size)
    elif size is not None:
        size = float(size)
    return {"offer_code": cell.offer_code or campaign.offer_code,
            "reward_type": cell.reward_type, "reward_size": size,
            "reward_validity_days": cell.reward_validity_days, "campaign_name": campaign.name}


def render_context(offers: dict[str, Any], profile: dict[str, Any] | None,
                   msisdn: int | str) -> dict[str, Any]:
    """The fields a cell's message renders with for one subscriber: the profile row (or
    only the number when there is none) and the cell's `offer_fields`, which win.

    The single place the context is built: dispatch, test sends, the subscriber lookup
    and the preview all call it, so what an agent or a tester sees is what was sent.
    """
    return {**(profile or {}), "msisdn": str(msisdn), **offers}


def source_for(templates: dict[str, Any], channel: str, language: str | None) -> str | None:
    """A cell's template for the channel in the subscriber's language (else English, else
    the first one); None when the cell has no message for the channel."""
    by_lang = templates.get(channel)
    if isinstance(by_lang, str):
        return by_lang
    if not isinstance(by_lang, dict) or not by_lang:
        return None
    if language and language in by_lang:
        return str(by_lang[language])
    return str(by_lang.get("en") or next(iter(by_lang.values())))


def render_for(source: str, context: dict[str, Any]) -> str:
    """`render`, skipping the template engine for plain text."""
    return render(source, context) if "{" in source else source


def preview(source: str, *, channel: str, subscriber: dict[str, Any]) -> dict[str, Any]:
    """What one subscriber would receive, and for SMS its encoding and parts."""
    text = render(source, subscriber)
    out: dict[str, Any] = {"text": text, "channel": channel}
    if channel == "sms":
        out["sms"] = sms_info(text).as_dict()
    return out
