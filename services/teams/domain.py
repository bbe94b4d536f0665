"""Group-buy rules of the teams service: pure functions, no I/O.

Campaign and team state machines arrive with the group-buy issue. For now: how
the local product copy follows catalog's events, which can arrive out of order.
"""


def should_apply(current_version, incoming_version):
    """A product snapshot replaces ours only if it is newer; redelivered or late
    snapshots of an older version change nothing."""
    return current_version is None or incoming_version > current_version
