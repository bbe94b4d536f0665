"""The notify service: entrypoints only. Templates live in domain.py, input formats in
schemas.py (the events' are declared in contract.events), queries in store.py, answers in views.py.

Each handled event becomes its users' messages in one transaction with the
handler's inbox claim; the messages' unique key keeps a redelivered event from
adding a second copy even past the claim.
"""
from contract import events
from plumbing import clock
from plumbing.db import Database
from plumbing.entrypoints import event_handler, rpc
from plumbing.probes import ServiceBase
from services.notify import domain, schemas, store, views


class NotifyService(ServiceBase):
    name = "notify"
    db = Database()

    # --- the inbox ------------------------------------------------------------------

    @rpc
    def list_notifications(self, user_id, page=1, page_size=20):
        args = schemas.load(schemas.ListArgs, {"user_id": user_id, "page": page,
                                               "page_size": page_size})
        rows, total = store.page_of(self.db.session, **args.as_kwargs())
        unread = store.unread_count(self.db.session, args.user_id)
        return views.inbox_page(rows, total, unread, args.page, args.page_size)

    @rpc
    def unread_count(self, user_id):
        args = schemas.load(schemas.UserArgs, {"user_id": user_id})
        return {"unread": store.unread_count(self.db.session, args.user_id)}

    @rpc
    def mark_read(self, user_id, ids=None):
        """ids None marks all read; ids of other users' messages are ignored."""
        args = schemas.load(schemas.MarkReadArgs, {"user_id": user_id, "ids": ids})
        store.mark_read(self.db.session, args.user_id, args.ids, clock.now())
        return {"unread": store.unread_count(self.db.session, args.user_id)}

    # --- events -------------------------------------------------------------------

    @event_handler(events.TeamOpened)
    def on_team_opened(self, event):
        team = event.data
        self._deliver(event, domain.team_opened(team.leader_id, team.team_size, team.deadline,
                                                team.share_token))

    @event_handler(events.SeatPaid)
    def on_seat_paid(self, event):
        seat = event.data
        self._deliver(event, domain.someone_joined(seat.team_id, seat.user_id, seat.leader_id,
                                                   seat.member_count, seat.team_size))

    @event_handler(events.TeamSucceeded)
    def on_team_succeeded(self, event):
        self._deliver(event, domain.team_succeeded(event.data.team_id, event.data.user_ids))

    @event_handler(events.TeamFailed)
    def on_team_failed(self, event):
        self._deliver(event, domain.team_failed(event.data.team_id, event.data.user_ids))

    @event_handler(events.RefundSucceeded)
    def on_refund_succeeded(self, event):
        refund = event.data
        self._deliver(event, domain.refund_completed(refund.user_id, refund.order_id,
                                                     refund.amount))

    @event_handler(events.OrderShipped)
    def on_order_shipped(self, event):
        order = event.data
        self._deliver(event, domain.order_shipped(order.user_id, order.order_id, order.carrier,
                                                  order.tracking_no))

    @event_handler(events.StockLow)
    def on_stock_low(self, event):
        low = event.data
        self._deliver(event, domain.stock_low(low.merchant_id, low.product_id, low.title,
                                              low.spec, low.stock))

    @event_handler(events.ReviewReplied)
    def on_review_replied(self, event):
        self._deliver(event, domain.review_replied(event.data.user_id, event.data.review_id))

    @event_handler(events.FeedbackAnswered)
    def on_feedback_answered(self, event):
        answer = event.data
        self._deliver(event, domain.feedback_answered(answer.user_id, answer.feedback_id,
                                                      answer.status))

    # --- helpers (not entrypoints) --------------------------------------------------

    def _deliver(self, event, messages):
        store.add_messages(self.db.session, event.id, messages, clock.now())
