from services.teams.domain import should_apply


def test_first_snapshot_is_applied():
    assert should_apply(None, 1)


def test_only_newer_snapshots_replace_the_copy():
    assert should_apply(3, 4)
    assert not should_apply(4, 4)  # redelivered
    assert not should_apply(4, 3)  # arrived late
