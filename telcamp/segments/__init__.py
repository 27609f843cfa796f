"""Audience selection: segment rules, compiler, counts, funnels, snapshots, templates."""
