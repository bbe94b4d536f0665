"""A shopper's delivery addresses: at most domain's number of them, exactly one default
while there is any. Each change locks the user first, so two at once take turns."""
from plumbing import clock
from services.accounts import domain, store


def create(session, user_id, fields):
    store.get_user(session, user_id, lock=True)
    existing = store.count_addresses(session, user_id)
    domain.check_room_for_address(existing)
    is_default = domain.new_address_is_default(existing, fields.pop("is_default", None))
    return store.add_address(session, user_id, fields, is_default)


def update(session, user_id, address_id, changes):
    address = _owned(session, user_id, address_id)
    wants_default = changes.pop("is_default", None)
    domain.check_default_kept(address.is_default, wants_default)
    for field, value in changes.items():
        setattr(address, field, value)
    address.updated_at = clock.now()
    if wants_default and not address.is_default:
        store.make_default(session, address)
    return address


def delete(session, user_id, address_id):
    """-> the default address's id now, or None."""
    return store.delete_address(session, _owned(session, user_id, address_id))


def make_default(session, user_id, address_id):
    address = _owned(session, user_id, address_id)
    if not address.is_default:
        store.make_default(session, address)
    return address


def _owned(session, user_id, address_id):
    store.get_user(session, user_id, lock=True)
    return store.get_address(session, user_id, address_id)
