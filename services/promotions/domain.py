"""Promotion rules (coupons, 满减, flash sales, points, member levels): pure functions, no I/O.

Empty until the promotions issue; the service already starts, migrates and answers /health.
"""
