import pytest


@pytest.fixture
def teams(start_service):
    """The real teams service: catalog asks it for group prices before lowering a price."""
    return start_service("teams")
