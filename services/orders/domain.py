"""Order state machine and pricing: pure functions, no I/O.

Filled by the group-buy issue; the service already starts, migrates and answers /health.
"""
