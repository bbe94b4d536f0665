"""The teams service: entrypoints only; rules live in domain.py."""
from plumbing.db import Database
from plumbing.entrypoints import event_handler, rpc
from plumbing.errors import NotFound
from plumbing.probes import ServiceBase
from services.teams import domain
from services.teams.models import ProductCopy


class TeamsService(ServiceBase):
    name = "teams"
    db = Database()

    @event_handler("catalog", "product_changed")
    def on_product_changed(self, event):
        snapshot = event.data
        copy = self.db.session.get(ProductCopy, snapshot["id"])
        if not domain.should_apply(copy.version if copy else None, snapshot["version"]):
            return
        copy = copy or ProductCopy(id=snapshot["id"])
        copy.version = snapshot["version"]
        copy.title = snapshot["title"]
        copy.status = snapshot["status"]
        copy.skus = [{"id": s["id"], "spec": s["spec"], "price": s["price"]}
                     for s in snapshot["skus"]]
        self.db.session.add(copy)

    @rpc
    def get_product_copy(self, product_id):
        copy = self.db.session.get(ProductCopy, product_id)
        if copy is None:
            raise NotFound("product_not_found", f"No product {product_id} known to teams.")
        return {"id": copy.id, "version": copy.version, "title": copy.title,
                "status": copy.status, "skus": copy.skus}
