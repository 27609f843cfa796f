"""The permission matrix: the single source for code and docs (docs/permissions.md).

Every API route and page declares one of these permissions.
"""

from __future__ import annotations

PERMISSIONS: dict[str, str] = {
    "warehouse.read": "see warehouse figures (home page, stats)",
    "data.load": "load billing exports into the warehouse",
    "segment.read": "see segments, counts, funnels and profiles",
    "segment.write": "create and edit segments and criteria templates, take snapshots",
    "list.read": "see special lists and search a number in them",
    "list.write": "create lists, import, add and remove numbers",
    "list.override": "override a default exclusion list for one campaign",
    "campaign.read": "see programs, campaigns, waves and their progress",
    "campaign.write": "create and edit programs and campaigns, submit them",
    "campaign.approve": "approve or reject campaigns of one's region",
    "campaign.launch": "launch, pause, resume and cancel campaigns",
    "campaign.chain": "configure the approval chains (levels, budget threshold)",
    "policy.manage": "configure the contact policy and channels",
    "report.read": "see campaign results and comparisons",
    "report.export": "export results and the OLAP star schema",
    "subscriber.lookup": "look up one subscriber's contact history",
    "subscriber.optout": "opt a subscriber out on their request from the lookup "
                         "(operator-wide opt-out list, audited)",
    "pii.read": "see full phone numbers and e-mail addresses",
    "user.manage": "manage users and their roles and regions",
    "token.manage": "create and revoke API tokens",
    "audit.read": "read the audit log",
    "offer.query": "ask for the next best offer (channel systems)",
    "callback.write": "report channel results back (channel systems)",
}

ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "marketer": frozenset({
        "warehouse.read", "segment.read", "segment.write", "list.read", "list.write",
        "campaign.read", "campaign.write", "campaign.launch", "report.read",
    }),
    "approver": frozenset({
        "warehouse.read", "segment.read", "list.read", "campaign.read", "campaign.approve",
        "report.read",
    }),
    "analyst": frozenset({
        "warehouse.read", "segment.read", "list.read", "campaign.read", "report.read",
        "report.export",
    }),
    "agent": frozenset({"subscriber.lookup", "subscriber.optout", "pii.read",
                        "campaign.read"}),
    "channel": frozenset({"offer.query", "callback.write"}),
}
