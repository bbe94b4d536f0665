"""Every handler listens to a declared event that its source emits, every declared event
is emitted by its own source, and the test of that fails when the wiring is wrong."""
import pytest

from contract import events, wiring
from contract.declare import Event, Id


def test_every_handler_and_every_declared_event_fits():
    assert wiring.problems() == []


def test_the_services_listen_where_the_house_says():
    listening = {(h.handles.key(), f"{h.service}.{h.method}") for h in wiring.handlers()}
    assert ("teams.team_failed", "orders.on_team_failed") in listening
    assert ("orders.refund_requested", "payments.on_refund_requested") in listening
    assert ("catalog.product_changed", "teams.on_product_changed") in listening
    assert wiring.emitted()["TeamFailed"] == {"teams"}


class Undeclared(Event):  # a class of its own, not in contract.events
    source, name, event_version = "teams", "team_vanished", 1
    team_id: Id


def test_a_handler_of_an_undeclared_event_is_found():
    handler = wiring.Handler("orders", "on_team_vanished", Undeclared)
    assert wiring.problems([handler], wiring.emitted()) == [
        "orders.on_team_vanished handles Undeclared, which contract.events does not declare"]


def test_a_handler_of_an_event_nobody_emits_and_an_unsent_declaration_are_found():
    emitted = {name: services for name, services in wiring.emitted().items()
               if name != "TeamCancelled"}
    found = wiring.problems(wiring.handlers(), emitted)
    assert "orders.on_team_cancelled handles teams.team_cancelled, which teams never emits" \
        in found
    assert "teams.team_cancelled is declared but no service emits it" in found


def test_an_event_built_by_another_service_than_its_source_is_found():
    emitted = {**wiring.emitted(), "TeamFailed": {"teams", "orders"}}
    assert wiring.problems(wiring.handlers(), emitted) == [
        "orders build(s) teams.team_failed, which only teams may emit"]


def test_a_service_cannot_emit_another_services_event():
    from plumbing.db import Unit

    class Ctx:
        service_name, data = "orders", {}

    with pytest.raises(TypeError, match="orders cannot send teams's event team_cancelled"):
        Unit(None, Ctx()).emit(events.TeamCancelled(team_id=1, order_ids=[2]))
