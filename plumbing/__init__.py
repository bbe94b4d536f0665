"""Plumbing shared by every Pintuan service: settings, database and outbox/inbox,
reliable events, RPC with timeouts, typed errors, HTTP probes, logs and metrics.

No business rules live here.
"""
