"""The fault run inside `./dev test` (short form: every kind of fault once); the long
form is `./dev faults`. Either fails when an invariant does not hold."""
import pytest

from tests.e2e.stack import GATEWAY
from tests.faults import runner

pytestmark = pytest.mark.e2e
STACK_ENV = runner.STACK_ENV


@pytest.mark.timeout(1800)
def test_nothing_is_lost_or_doubled_through_faults(stack, capsys):
    profile = runner.Profile.from_env()
    report = runner.run(stack, GATEWAY, profile, stack.log_dir)
    with capsys.disabled():
        print("\n" + runner.format_report(report))
    assert report["quiet_after_seconds"] is not None, report["still_moving"]
    assert all(f["ok"] for f in report["faults"]), report["faults"]
    kinds = {f["fault"] for f in report["faults"]}
    assert kinds >= set(runner.chaos.plan()), f"not every fault was injected: {kinds}"
    failed = [item for item in report["invariants"] if not item["holds"]]
    assert not failed, failed
    assert report["load"].get("teams opened", 0) >= profile.teams * 0.8
