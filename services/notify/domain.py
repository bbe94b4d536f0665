"""Notification rules (templates, one message per event per user): pure functions, no I/O.

Filled by the group-buy issue; the service already starts, migrates and answers /health.
"""
