"""Reads and writes of the accounts database, for the entrypoints in service.py.

Functions take the worker's session and never commit: the entrypoint commits
before it answers. Rules come from domain.py.
"""
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from plumbing import clock
from plumbing.errors import Conflict, NotFound
from services.accounts import domain, passwords
from services.accounts.models import Address, LoginFailures, Shop, User

INVITE_CODE_ATTEMPTS = 5  # each clashes with odds of users / 8.5e11

# --- users ------------------------------------------------------------------


def user_dict(user):
    return {"id": user.id, "nickname": user.nickname, "avatar_url": user.avatar_url,
            "phone": user.phone, "roles": domain.parse_roles(user.roles),
            "invite_code": user.invite_code}


def get_user(session, user_id, lock=False):
    """The user, or NotFound. `lock` serialises concurrent changes to one user's
    addresses (first-is-default, the cap) without locking anyone else."""
    user = session.get(User, user_id, with_for_update=lock or None)
    if user is None:
        raise NotFound("user_not_found", f"There is no user {user_id}.")
    return user


def find_user(session, **criteria):
    return session.scalars(sa.select(User).filter_by(**criteria)).first()


def customer_for_openid(session, openid, invite_code):
    """-> (user, created). Creates the customer on first login; when two first logins
    of the same person race, the loser finds the winner's row."""
    user = find_user(session, openid=openid)
    if user is not None:
        return user, False
    inviter = _inviter(session, invite_code)
    try:
        return _add_user(session, openid=openid, roles="customer",
                         nickname=domain.default_nickname(openid),
                         invited_by=inviter.id if inviter else None), True
    except IntegrityError:
        user = find_user(session, openid=openid)
        if user is None:
            raise
        return user, False


def _inviter(session, raw_code):
    code = domain.normalize_invite_code(raw_code)
    return find_user(session, invite_code=code) if code else None


def add_staff_user(session, username, password, roles):
    """-> the new user, or Conflict when the username is taken."""
    if find_user(session, username=username) is not None:
        raise _username_taken(username)
    password_hash = passwords.hash_password(password)
    try:
        return _add_user(session, username=username, password_hash=password_hash,
                         roles=domain.format_roles(roles), nickname=username[:32])
    except IntegrityError:
        if find_user(session, username=username) is not None:
            raise _username_taken(username)
        raise


# --- merchants and their shops ---------------------------------------------------


def add_merchant(session, username, password, shop_name, created_by=None):
    """A merchant account and its shop, together; Conflict when either name is taken."""
    if session.scalar(sa.select(Shop.merchant_id).where(Shop.name == shop_name)) is not None:
        raise _shop_name_taken(shop_name)
    try:
        with session.begin_nested():  # both or neither
            user = add_staff_user(session, username, password, ["merchant"])
            session.add(Shop(merchant_id=user.id, name=shop_name, created_by=created_by,
                             created_at=clock.now()))
    except IntegrityError:  # the same shop name, created a moment ago by another call
        raise _shop_name_taken(shop_name) from None
    return user


def shop_of(session, merchant_id):
    return session.get(Shop, merchant_id)


def merchant_dict(user, shop):
    return {"id": user.id, "username": user.username, "shop_name": shop.name if shop else None,
            "created_at": clock.isoformat(shop.created_at if shop else user.created_at)}


def merchants_page(session, page, page_size):
    """-> ([(user, shop)], total), the newest shop first."""
    query = (sa.select(User, Shop).join(Shop, Shop.merchant_id == User.id)
             .order_by(Shop.created_at.desc(), User.id.desc()))
    total = session.scalar(sa.select(sa.func.count()).select_from(Shop))
    rows = session.execute(query.limit(page_size).offset((page - 1) * page_size)).all()
    return rows, total


def _shop_name_taken(name):
    return Conflict("shop_name_taken", f"There is already a shop named {name!r}.")


def _username_taken(username):
    return Conflict("username_taken", f"The username {username!r} is already in use.")


def _add_user(session, **fields):
    """Insert in a savepoint, so a clash (the same openid or username arriving twice
    at once) leaves the worker's transaction usable; the caller says what it means."""
    user = User(invite_code=_unused_invite_code(session), created_at=clock.now(), **fields)
    with session.begin_nested():
        session.add(user)
    return user


def _unused_invite_code(session):
    for _ in range(INVITE_CODE_ATTEMPTS):
        code = domain.new_invite_code()
        if find_user(session, invite_code=code) is None:
            return code
    raise RuntimeError("could not draw an unused invite code")


# --- addresses --------------------------------------------------------------


def address_dict(address):
    return {"id": address.id, "recipient": address.recipient, "phone": address.phone,
            "province": address.province, "city": address.city, "district": address.district,
            "detail": address.detail, "is_default": address.is_default,
            "created_at": clock.isoformat(address.created_at),
            "updated_at": clock.isoformat(address.updated_at)}


def addresses_of(session, user_id):
    """The default first, then the most recently added."""
    return session.scalars(
        sa.select(Address).where(Address.user_id == user_id)
        .order_by(Address.is_default.desc(), Address.created_at.desc(), Address.id.desc())).all()


def count_addresses(session, user_id):
    return session.scalar(sa.select(sa.func.count()).select_from(Address)
                          .where(Address.user_id == user_id))


def get_address(session, user_id, address_id):
    """Another user's address is as absent as one that never existed."""
    address = session.scalars(sa.select(Address).where(
        Address.id == address_id, Address.user_id == user_id)).first()
    if address is None:
        raise NotFound("address_not_found", f"You have no address {address_id}.")
    return address


def add_address(session, user_id, fields, is_default):
    if is_default:
        _clear_default(session, user_id)
    now = clock.now()
    address = Address(user_id=user_id, is_default=is_default, created_at=now, updated_at=now,
                      **fields)
    session.add(address)
    session.flush()
    return address


def make_default(session, address):
    # The old default is unset first: the one-default index checks every row at once.
    _clear_default(session, address.user_id)
    address.is_default = True
    session.flush()


def _clear_default(session, user_id):
    session.execute(sa.update(Address)
                    .where(Address.user_id == user_id, Address.is_default.is_(True))
                    .values(is_default=False))


def delete_address(session, address):
    """Deletes it; when it was the default, another takes over. -> the default's id."""
    was_default = address.is_default
    session.delete(address)
    session.flush()
    remaining = addresses_of(session, address.user_id)
    if not was_default:
        return next((a.id for a in remaining if a.is_default), None)
    successor_id = domain.successor_default(
        [domain.AddressRef(a.id, clock.aware(a.created_at), a.is_default) for a in remaining])
    if successor_id is not None:
        make_default(session, next(a for a in remaining if a.id == successor_id))
    return successor_id


# --- staff login lockout ------------------------------------------------------


def login_failures(session, subjects):
    """{scope: domain.Failures} of a login's scopes (`subjects`: {scope: subject}); the
    rows that exist are locked, in key order, so concurrent logins of the same username
    or address are judged one after the other and none slips past a lockout."""
    keys = sorted(subjects.items())
    rows = session.scalars(
        sa.select(LoginFailures).where(sa.tuple_(LoginFailures.scope, LoginFailures.subject)
                                       .in_(keys))
        .order_by(LoginFailures.scope, LoginFailures.subject)
        .with_for_update().execution_options(populate_existing=True)).all()
    found = {row.scope: row for row in rows}
    return {scope: _failures(found.get(scope)) for scope in subjects}


def _failures(row):
    if row is None:
        return domain.Failures()
    return domain.Failures(row.count, clock.aware(row.window_started_at),
                           clock.aware(row.locked_until))


def update_login_failures(session, subjects, change):
    """Applies `change(scope, domain.Failures) -> domain.Failures` to each scope's count,
    under its row lock. A row inserted by another login at the same moment is locked and
    changed after that login's change, so no failure goes uncounted."""
    for scope in sorted(subjects):
        key = {"scope": scope, "subject": subjects[scope]}
        row = session.get(LoginFailures, key, with_for_update=True, populate_existing=True)
        if row is None:
            new = change(scope, domain.Failures())
            if new == domain.Failures():
                continue  # nothing to remember
            try:
                with session.begin_nested():
                    session.add(_set(LoginFailures(**key), new))
                continue
            except IntegrityError:
                row = session.get(LoginFailures, key, with_for_update=True,
                                  populate_existing=True)
        _set(row, change(scope, _failures(row)))
    session.flush()


def _set(row, failures):
    row.count = failures.count
    row.window_started_at = failures.window_started_at
    row.locked_until = failures.locked_until
    return row


def forget_login_failures(session, windows_over_before, now):
    """Deletes counts whose window is over and whose lockout (if any) has passed."""
    session.execute(sa.delete(LoginFailures).where(
        sa.or_(LoginFailures.window_started_at.is_(None),
               LoginFailures.window_started_at < windows_over_before),
        sa.or_(LoginFailures.locked_until.is_(None), LoginFailures.locked_until <= now)))
