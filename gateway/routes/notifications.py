"""Gateway routes for the inbox (站内信): a user's messages and marking them read."""
from gateway.routing import route
from gateway.schemas import notifications as s
from gateway.schemas.common import Paging
from plumbing.rpc import RemoteService

SHOP = "shop"


class NotificationRoutes:
    notify = RemoteService("notify")

    @route("GET", "/api/v1/notifications", "My inbox", SHOP, role="any", query=Paging(),
           response=s.NotificationPage())
    def list_notifications(self, request, user, query):
        return self.notify.list_notifications(user["user_id"], **query)

    @route("POST", "/api/v1/notifications/read", "Mark some (ids) or all messages read", SHOP,
           role="any", body=s.MarkRead(), response=s.Unread())
    def mark_notifications_read(self, request, user, body):
        return self.notify.mark_read(user["user_id"], body.get("ids"))
