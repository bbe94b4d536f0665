"""The notify service: entrypoints only. Templates live in domain.py, input and event
formats in schemas.py, queries in store.py, answers in views.py.

Each handled event becomes its users' messages in one transaction with the
handler's inbox claim; the messages' unique key keeps a redelivered event from
adding a second copy even past the claim.
"""
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
        rows, total = store.page_of(self.db.session, **args)
        unread = store.unread_count(self.db.session, args["user_id"])
        return views.inbox_page(rows, total, unread, args["page"], args["page_size"])

    @rpc
    def unread_count(self, user_id):
        args = schemas.load(schemas.UserArgs, {"user_id": user_id})
        return {"unread": store.unread_count(self.db.session, args["user_id"])}

    @rpc
    def mark_read(self, user_id, ids=None):
        """ids None marks all read; ids of other users' messages are ignored."""
        args = schemas.load(schemas.MarkReadArgs, {"user_id": user_id, "ids": ids})
        store.mark_read(self.db.session, args["user_id"], args["ids"], clock.now())
        return {"unread": store.unread_count(self.db.session, args["user_id"])}

    # --- events -------------------------------------------------------------------

    @event_handler("teams", "team_opened")
    def on_team_opened(self, event):
        data = schemas.load(schemas.TeamOpened, event.data)
        self._deliver(event, domain.team_opened(data["leader_id"], data["team_size"],
                                                data["deadline"], data["share_token"]))

    @event_handler("teams", "seat_paid")
    def on_seat_paid(self, event):
        data = schemas.load(schemas.SeatPaid, event.data)
        self._deliver(event, domain.someone_joined(data["team_id"], data["user_id"],
                                                   data["leader_id"], data["member_count"],
                                                   data["team_size"]))

    @event_handler("teams", "team_succeeded")
    def on_team_succeeded(self, event):
        data = schemas.load(schemas.TeamOutcome, event.data)
        self._deliver(event, domain.team_succeeded(data["team_id"], data["user_ids"]))

    @event_handler("teams", "team_failed")
    def on_team_failed(self, event):
        data = schemas.load(schemas.TeamOutcome, event.data)
        self._deliver(event, domain.team_failed(data["team_id"], data["user_ids"]))

    @event_handler("payments", "refund_succeeded")
    def on_refund_succeeded(self, event):
        data = schemas.load(schemas.RefundSucceeded, event.data)
        self._deliver(event, domain.refund_completed(data["user_id"], data["order_id"],
                                                     data["amount"]))

    @event_handler("orders", "order_shipped")
    def on_order_shipped(self, event):
        data = schemas.load(schemas.OrderShipped, event.data)
        self._deliver(event, domain.order_shipped(data["user_id"], data["order_id"],
                                                  data["carrier"], data["tracking_no"]))

    @event_handler("catalog", "stock_low")
    def on_stock_low(self, event):
        data = schemas.load(schemas.StockLow, event.data)
        self._deliver(event, domain.stock_low(data["merchant_id"], data["product_id"],
                                              data["title"], data["spec"], data["stock"]))

    @event_handler("reviews", "review_replied")
    def on_review_replied(self, event):
        data = schemas.load(schemas.ReviewReplied, event.data)
        self._deliver(event, domain.review_replied(data["user_id"], data["review_id"]))

    @event_handler("reviews", "feedback_answered")
    def on_feedback_answered(self, event):
        data = schemas.load(schemas.FeedbackAnswered, event.data)
        self._deliver(event, domain.feedback_answered(data["user_id"], data["feedback_id"],
                                                      data["status"]))

    # --- helpers (not entrypoints) --------------------------------------------------

    def _deliver(self, event, messages):
        store.add_messages(self.db.session, event.id, messages, clock.now())
