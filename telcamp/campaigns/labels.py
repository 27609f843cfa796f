"""Labels of the campaign domain's fields, for input errors (telcamp.core.field_errors)."""

from __future__ import annotations

from telcamp.core.field_errors import register_labels
from telcamp.core.i18n import _

register_labels({
    "name": _("Name"), "snapshot_id": _("Audience snapshot"), "offer_code": _("Offer"),
    "offer_type": _("Offer type"), "budget": _("Budget"), "priority": _("Priority"),
    "start_at": _("Start"), "end_at": _("End"), "start": _("Start"), "end": _("End"),
    "window_start": _("Send window start"), "window_end": _("Send window end"),
    "control_pct": _("Control %"), "channels": _("Channels"), "weekdays": _("Weekdays"),
    "kind": _("Repeat"), "reparticipation": _("Re-participation"),
    "reparticipation_days": _("Re-participation days"), "program_id": _("Program"),
    "region_code": _("Region"), "reward_size": _("Reward size"),
    "reward_validity_days": _("Reward validity (days)"), "reward_type": _("Reward type"),
    "text": _("text"), "added": _("added"), "removed": _("removed"),
    "cells": _("order of the cells"), "rule": _("rule"), "schedule": _("own schedule"),
    "fixed_audience": _("Fixed audience"), "auto_launch": _("Automatic launch"),
    "exclusion_overrides": _("Exclusion overrides"), "segment_id": _("Segment"),
})
