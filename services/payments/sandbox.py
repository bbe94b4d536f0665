"""A WeChat Pay sandbox that behaves like the real APIv3, for dev and test only.

It keeps its own provider-side records (`sandbox_*` tables, which our code never
reads), in the session it is bound to (`bind`): the calling worker's. On SQLite,
the local run's database, a second connection of its own could not write while the
worker's transaction holds the write lock. It

- hands out prepay ids (`prepay`), and lets the shopper pay one (`pay`, behind
  POST /sandbox/wechatpay/{prepay_id}/pay);
- then POSTs a TRANSACTION.SUCCESS notification to the order's notify_url, its
  resource encrypted with the APIv3 key and the request signed with the platform
  key, as WeChat does; a callback that does not answer 2xx {"code": "SUCCESS"} gets
  it again after PINTUAN_SANDBOX_RETRY_SECONDS, until it does; and, like WeChat,
  it sometimes sends an acknowledged notification again
  (PINTUAN_SANDBOX_DUPLICATE_RATE); for fault runs it can also be slow to send the
  first attempt (PINTUAN_SANDBOX_DELAY_SECONDS) and lose attempts on the way
  (PINTUAN_SANDBOX_DROP_RATE), which are then retried like refused ones;
- takes refunds (`refund`), which succeed PINTUAN_SANDBOX_REFUND_DELAY_SECONDS later
  with a REFUND.SUCCESS notification.

`run_due()` does the provider's scheduled work; the service calls it from a timer
in every replica, and FOR UPDATE SKIP LOCKED hands each due row to one of them.
A notification is leased (its next attempt pushed past the delivery timeout) and
committed before it is POSTed, so no transaction stays open across the HTTP call
and no other replica sends it meanwhile; the outcome is written afterwards.
"""
import copy
import json
import logging
import random
import secrets
import uuid
from datetime import timedelta, timezone

import requests
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from plumbing import clock, settings
from plumbing.db import due_rows
from plumbing.errors import Conflict, Forbidden, NotFound
from services.payments import config, domain, signing
from services.payments.interface import Provider, ProviderRefused, ProviderUnavailable
from services.payments.models import SandboxNotification, SandboxOrder, SandboxRefund

log = logging.getLogger(__name__)

MCHID = "1900000001"
APPID = "wxsandbox0000000001"
NOTPAY, SUCCESS, CLOSED, PROCESSING = "NOTPAY", "SUCCESS", "CLOSED", "PROCESSING"
PAY_RESULTS = ("success", "fail")
BEIJING = timezone(timedelta(hours=8))
DELIVERY_TIMEOUT_SECONDS = 5
BATCH = 20
# Deliveries in flight (a batch is POSTed one by one) are not taken by another replica.
LEASE_SECONDS = BATCH * DELIVERY_TIMEOUT_SECONDS + 10
# Let a test make the sandbox's refund endpoint unreachable, refuse "for now" as WeChat does
# while the merchant's refundable balance is short, or refuse for good (see
# plumbing.settings.fault).
REFUND_OUTAGE_FAULT = "wechatpay_refund_unavailable"
REFUND_NOT_ENOUGH_FAULT = "wechatpay_refund_not_enough"
REFUND_ABNORMAL_FAULT = "wechatpay_refund_user_account_abnormal"


def beijing_time(moment):
    """WeChat writes times in China Standard Time, with the offset."""
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


def acknowledged(status_code, text):
    """WeChat takes 2xx with no body, or a body with code SUCCESS, as delivered."""
    if not 200 <= status_code < 300:
        return False
    if not text.strip():
        return True
    try:
        answer = json.loads(text)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("code") == "SUCCESS"


class WeChatPaySandbox(Provider):
    is_sandbox = True

    def __init__(self, platform_private_key, platform_public_key, apiv3_key, http=requests):
        if settings.is_production():
            raise RuntimeError("The WeChat Pay sandbox is refused in production: anyone could "
                               "pay any order. Set PINTUAN_WECHATPAY_MODE=real.")
        self.private_key = platform_private_key
        self.public_key = platform_public_key
        self.serial = signing.serial_of(platform_public_key)
        self.apiv3_key = apiv3_key
        self.http = http
        self.session = None

    def bind(self, session):
        bound = copy.copy(self)
        bound.session = session
        return bound

    # --- the API our side calls ---------------------------------------------------

    def prepay(self, out_trade_no, amount, description, notify_url, payer_openid=None):
        order = self._order(out_trade_no=out_trade_no)
        if order is None:
            now = clock.now()
            order = SandboxOrder(prepay_id=f"wx{now:%Y%m%d%H%M%S}{secrets.token_hex(11)}",
                                 out_trade_no=out_trade_no, amount=amount, description=description,
                                 notify_url=notify_url, state=NOTPAY, created_at=now)
            try:
                with self.session.begin_nested():
                    self.session.add(order)
            except IntegrityError:  # the same trade, asked for at the same moment
                order = self._order(out_trade_no=out_trade_no)
        if order.amount != amount:
            raise ProviderRefused("INVALID_REQUEST", "out_trade_no was used with another amount")
        return order.prepay_id

    def refund(self, out_trade_no, out_refund_no, amount, total, notify_url, reason=None):
        if settings.fault(REFUND_OUTAGE_FAULT):
            raise ProviderUnavailable("the sandbox refund endpoint is down (fault injection)")
        if settings.fault(REFUND_NOT_ENOUGH_FAULT):
            raise ProviderRefused("NOT_ENOUGH", "基本账户余额不足，请充值后重新发起 (fault injection)")
        if settings.fault(REFUND_ABNORMAL_FAULT):
            raise ProviderRefused("USER_ACCOUNT_ABNORMAL", "退款请求失败 (fault injection)")
        existing = self.session.scalars(sa.select(SandboxRefund)
                                        .where(SandboxRefund.out_refund_no == out_refund_no)).first()
        if existing is None:
            existing = self._new_refund(out_trade_no, out_refund_no, amount, total, notify_url)
        return {"provider_refund_id": existing.refund_id, "status": existing.state}

    def close(self, out_trade_no):
        order = self._order(lock=True, out_trade_no=out_trade_no)
        if order is None:
            raise ProviderRefused("ORDER_NOT_EXIST", "no such trade")
        if order.state == SUCCESS:
            raise ProviderRefused("ORDERPAID", "the trade is paid")
        order.state = CLOSED

    def verify_and_decrypt(self, headers, body):
        return signing.verify_and_decrypt(headers, body, self.public_key, self.apiv3_key, self.serial)

    def client_params(self, prepay_id):
        return None

    # --- the shopper, in the sandbox's payment page ----------------------------------

    def pay(self, prepay_id, result):
        """The shopper pays (result "success") or gives up ("fail": nothing changes)."""
        if settings.is_production():
            raise Forbidden("sandbox_forbidden", "The payment sandbox does not exist in production.")
        order = self._order(lock=True, prepay_id=prepay_id)
        if order is None:
            raise NotFound("prepay_not_found", f"There is no prepay id {prepay_id}.")
        if order.state == SUCCESS:
            raise Conflict("already_paid", "This order is already paid.")
        if order.state == CLOSED:
            raise Conflict("payment_closed", "This payment was closed; it can no longer be paid.")
        if result == "success":
            self._succeed(order)
        return {"prepay_id": order.prepay_id, "trade_state": order.state,
                "transaction_id": order.transaction_id}

    # --- scheduled work ----------------------------------------------------------------

    def run_due(self):
        """Settles refunds whose time has come, then delivers due notifications;
        returns how many deliveries were tried. Commits the bound session as it goes."""
        for refund in due_rows(self.session, sa.select(SandboxRefund).where(
                SandboxRefund.state == PROCESSING, SandboxRefund.succeed_after <= clock.now())
                .order_by(SandboxRefund.id), limit=BATCH):
            self._settle(refund)
        leased = self._lease_due_notifications()
        self.session.commit()  # nothing stays open (or locked) while we wait on HTTP
        outcomes = [(notification_id, self._deliver(*request)) for notification_id, request in leased]
        for notification_id, problem in outcomes:
            self._record_delivery(self.session.get(SandboxNotification, notification_id), problem)
        return len(outcomes)

    # --- inside the provider -----------------------------------------------------------

    def _order(self, lock=False, **criteria):
        query = sa.select(SandboxOrder).filter_by(**criteria)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.scalars(query).first()

    def _new_refund(self, out_trade_no, out_refund_no, amount, total, notify_url):
        order = self._order(lock=True, out_trade_no=out_trade_no)
        if order is None:
            raise ProviderRefused("RESOURCE_NOT_EXISTS", "no such trade")
        if order.state != SUCCESS:
            raise ProviderRefused("TRADE_NOT_PAID", "the trade is not paid")
        if total != order.amount:
            raise ProviderRefused("PARAM_ERROR", "total is not the trade's amount")
        refunded = self.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(SandboxRefund.amount), 0))
            .where(SandboxRefund.out_trade_no == out_trade_no))
        if refunded + amount > order.amount:
            raise ProviderRefused("INVALID_REQUEST", "申请退款金额超过订单可退金额")
        now = clock.now()
        refund = SandboxRefund(
            refund_id=f"50{now:%Y%m%d}{secrets.randbelow(10**19):019d}", out_refund_no=out_refund_no,
            out_trade_no=out_trade_no, amount=amount, total=total, notify_url=notify_url,
            state=PROCESSING, created_at=now,
            succeed_after=now + timedelta(seconds=config.sandbox_refund_delay_seconds()))
        self.session.add(refund)
        self.session.flush()
        return refund

    def _succeed(self, order):
        now = clock.now()
        order.state = SUCCESS
        order.success_time = now
        order.transaction_id = f"4200{now:%Y%m%d}{secrets.randbelow(10**16):016d}"
        self._queue(order.notify_url, "TRANSACTION.SUCCESS", "支付成功", "transaction", {
            "appid": APPID, "mchid": MCHID, "out_trade_no": order.out_trade_no,
            "transaction_id": order.transaction_id, "trade_type": "JSAPI",
            "trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "OTHERS",
            "attach": "", "success_time": beijing_time(now), "payer": {"openid": "sandbox-payer"},
            "amount": {"total": order.amount, "payer_total": order.amount, "currency": "CNY",
                       "payer_currency": "CNY"}})

    def _settle(self, refund):
        now = clock.now()
        refund.state = SUCCESS
        refund.success_time = now
        order = self._order(out_trade_no=refund.out_trade_no)
        self._queue(refund.notify_url, "REFUND.SUCCESS", "退款成功", "refund", {
            "mchid": MCHID, "out_trade_no": refund.out_trade_no,
            "transaction_id": order.transaction_id, "out_refund_no": refund.out_refund_no,
            "refund_id": refund.refund_id, "refund_status": "SUCCESS",
            "success_time": beijing_time(now), "user_received_account": "支付用户零钱",
            "amount": {"total": refund.total, "refund": refund.amount, "payer_total": refund.total,
                       "payer_refund": refund.amount}})

    def _queue(self, url, event_type, summary, original_type, payload):
        now = clock.now()
        resource = signing.encrypted_resource(self.apiv3_key, payload, original_type)
        body = signing.notification_body(str(uuid.uuid4()), beijing_time(now), event_type, summary,
                                         resource, original_type)
        self.session.add(SandboxNotification(url=url, event_type=event_type, headers={}, body=body,
                                             attempts=0, created_at=now,
                                             next_attempt_at=now + timedelta(
                                                 seconds=config.sandbox_delay_seconds())))

    def _lease_due_notifications(self):
        """-> [(id, (url, headers, body))] of the due notifications, each signed afresh
        (WeChat signs every attempt, so the timestamp is recent) and leased."""
        now = clock.now()
        due = due_rows(self.session, sa.select(SandboxNotification).where(
            SandboxNotification.delivered_at.is_(None), SandboxNotification.next_attempt_at <= now)
            .order_by(SandboxNotification.next_attempt_at, SandboxNotification.id), limit=BATCH)
        leased = []
        for notification in due:
            notification.headers = signing.signed_headers(self.private_key, self.serial,
                                                          notification.body)
            notification.attempts += 1
            notification.next_attempt_at = now + timedelta(seconds=LEASE_SECONDS)
            leased.append((notification.id, (notification.url, notification.headers,
                                             notification.body)))
        return leased

    def _deliver(self, url, headers, body):
        if random.random() < config.sandbox_drop_rate():
            return "lost on the way (PINTUAN_SANDBOX_DROP_RATE)"
        return self._post(url, headers, body)

    def _post(self, url, headers, body):
        """One delivery; -> None when acknowledged, else what went wrong."""
        try:
            response = self.http.post(url, data=body.encode("utf-8"),
                                      headers={**headers, "Content-Type": "application/json"},
                                      timeout=DELIVERY_TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            return f"{type(exc).__name__}: {exc}"[:300]
        if acknowledged(response.status_code, response.text):
            return None
        return f"HTTP {response.status_code}: {response.text[:200]}"

    def _record_delivery(self, notification, problem):
        now = clock.now()
        if problem is None:
            notification.delivered_at, notification.last_error = now, None
            self._maybe_send_twice(notification, now)
            return
        notification.last_error = problem
        notification.next_attempt_at = domain.next_attempt_at(now, notification.attempts,
                                                              config.sandbox_retry_seconds())
        log.info("sandbox notification %s to %s not acknowledged (attempt %s): %s",
                 notification.id, notification.url, notification.attempts, problem)

    def _maybe_send_twice(self, notification, now):
        """WeChat may deliver a notification again after it was acknowledged."""
        if notification.duplicate_of is None and random.random() < config.sandbox_duplicate_rate():
            self.session.add(SandboxNotification(
                url=notification.url, event_type=notification.event_type, headers={},
                body=notification.body, attempts=0, next_attempt_at=now,
                duplicate_of=notification.id, created_at=now))
