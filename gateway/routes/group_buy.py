"""Gateway routes for group buying (拼团): opening and joining teams, the team page and its
shared link, and the merchant's campaigns and 团单列表."""
import base64

from werkzeug.wrappers import Response

from gateway.routing import route
from gateway.schemas import group_buy as s
from plumbing import settings
from plumbing.errors import BadRequest
from plumbing.rpc import RemoteService
from plumbing.web import http

GROUP, ADMIN = "group-buy", "merchant"
IDEMPOTENCY_KEY = "Idempotency-Key"


def _idempotency_key(request):
    """A client's retry of the same purchase carries the same key and gets the same order."""
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is not None and not 1 <= len(key) <= 64:
        raise BadRequest("invalid_idempotency_key", "Idempotency-Key must be 1-64 characters.")
    return key


class GroupBuyRoutes:
    orders = RemoteService("orders")
    teams = RemoteService("teams")

    # --- shoppers -----------------------------------------------------------
    @route("POST", "/api/v1/teams", "Open a team (开团): places the leader's team order", GROUP,
           role="customer", body=s.OpenTeam(), response=s.TeamOrderPlaced(), status=201,
           limit="join", errors=(422,))
    def open_team(self, request, user, body):
        return self.orders.place_team_order(
            user["user_id"], body["campaign_id"], body["sku_id"], body["quantity"],
            address_id=body.get("address_id"), idempotency_key=_idempotency_key(request))

    @route("POST", "/api/v1/teams/<int:team_id>/join", "Join a team (参团): reserves a seat",
           GROUP, role="customer", body=s.JoinTeam(), response=s.TeamOrderPlaced(), status=201,
           limit="join", errors=(422,))
    def join_team(self, request, user, body, team_id):
        return self.orders.place_team_order(
            user["user_id"], None, body["sku_id"], body["quantity"], team_id=team_id,
            address_id=body.get("address_id"), idempotency_key=_idempotency_key(request))

    @route("GET", "/api/v1/teams/<int:team_id>", "A team: status, seats left, deadline, members",
           GROUP, response=s.Team())
    def get_team(self, request, team_id):
        return self.teams.get_team(team_id)

    @route("GET", "/api/v1/teams/share/<token>", "The shared team page (join, full or ended)",
           GROUP, response=s.ShareView())
    def shared_team(self, request, token):
        share = self.teams.team_by_share_token(token)
        return {**share, "share_url": settings.public_base_url() + share["share_path"]}

    @http("GET", "/api/v1/teams/share/<token>/qr.png")
    def shared_team_qr(self, request, token):
        # the configured address, never the request's Host: anyone can send any Host
        png = self.teams.team_share_qr(token, settings.public_base_url())
        return Response(base64.b64decode(png), mimetype="image/png")

    # --- the merchant's campaigns and teams -------------------------------------
    @route("POST", "/admin/v1/campaigns", "Create a group-buy campaign (拼团活动)", ADMIN,
           role="merchant", body=s.CampaignInput(), response=s.Campaign(), status=201)
    def create_campaign(self, request, user, body):
        return self.teams.create_campaign(user["user_id"], body)

    @route("GET", "/admin/v1/campaigns", "My campaigns with their status", ADMIN,
           role="merchant", query=s.CampaignQuery(), response=s.CampaignPage())
    def list_campaigns(self, request, user, query):
        return self.teams.list_campaigns(user["user_id"], **query)

    @route("GET", "/admin/v1/campaigns/<int:campaign_id>", "One campaign", ADMIN,
           role="merchant", response=s.Campaign())
    def get_campaign(self, request, user, campaign_id):
        return self.teams.admin_get_campaign(user["user_id"], campaign_id)

    @route("PUT", "/admin/v1/campaigns/<int:campaign_id>",
           "Edit a campaign (all fields before it starts; only a later end while active)", ADMIN,
           role="merchant", body=s.CampaignChange(), response=s.Campaign())
    def update_campaign(self, request, user, body, campaign_id):
        return self.teams.update_campaign(user["user_id"], campaign_id, body)

    @route("POST", "/admin/v1/campaigns/<int:campaign_id>/invalidate", "End a campaign early",
           ADMIN, role="merchant", response=s.Campaign())
    def invalidate_campaign(self, request, user, campaign_id):
        return self.teams.invalidate_campaign(user["user_id"], campaign_id)

    @route("GET", "/admin/v1/teams", "Teams (团单列表) by campaign and status, with order ids",
           ADMIN, role="merchant", query=s.AdminTeamQuery(), response=s.AdminTeamPage())
    def admin_list_teams(self, request, user, query):
        return self.teams.admin_list_teams(user["user_id"], **query)
