"""Logging in: a shopper with WeChat (the account made at the first login), staff with a
password under the lockout of failed logins. Each answers {token, user}."""
from contract import events
from plumbing import clock, tokens
from plumbing.errors import Unauthorized
from services.accounts import config, domain, passwords, store


def result(user):
    roles = domain.parse_roles(user.roles)
    return {"token": tokens.sign(user.id, roles), "user": store.user_dict(user)}


def wechat(db, openid, invite_code):
    user, created = store.customer_for_openid(db.session, openid, invite_code)
    if created:
        db.emit(events.UserRegistered(user_id=user.id, invited_by=user.invited_by))
    return {**result(user), "created": created}


def staff(db, args):
    """While the username, the address or the pair is locked out by failed logins, every
    login is TooManyRequests `login_locked`, before the password is looked at."""
    session, now, thresholds = db.session, clock.now(), config.lockout_thresholds()
    subjects = {scope: subject for scope, subject
                in domain.lockout_subjects(args.username, args.address).items()
                if scope in thresholds}
    domain.check_not_locked(store.login_failures(session, subjects).values(), now)
    user = store.find_user(session, username=args.username)
    if not passwords.verify_password(user.password_hash if user else None, args.password):
        lockout = config.lockout_seconds()
        store.update_login_failures(session, subjects, lambda scope, failures: (
            domain.after_failure(failures, thresholds[scope], lockout, now)))
        session.commit()  # the failure counts, though the answer is an error
        raise Unauthorized("invalid_credentials", "The username or password is wrong.")
    store.update_login_failures(session, subjects, domain.after_success)
    domain.check_back_office_access(domain.parse_roles(user.roles))
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(args.password)
    answer = result(user)
    shop = store.shop_of(session, user.id)
    answer["user"]["shop_name"] = shop.name if shop else None
    return answer


def forget_old_failures(db):
    """Counts whose window is over are deleted (safe in every replica: a plain DELETE)."""
    thresholds, now = config.lockout_thresholds(), clock.now()
    if thresholds:
        store.forget_login_failures(db.session,
                                    domain.windows_over_before(thresholds.values(), now), now)
