"""docs/events.md is generated from the contract and must be current."""
from contract import docs


def test_the_events_document_is_current():
    assert docs.main(["--check"]) == 0, "run: python -m contract.docs"


def test_the_document_names_every_event_its_emitter_and_its_listeners():
    text = docs.render()
    assert "| [`teams.team_failed`](#teamsteam_failed) v1 | teams | orders (`on_team_failed`), " \
           "notify (`on_team_failed`) |" in text
    assert "## orders.refund_requested" in text and '"refund_key": "team-failed-100"' in text
