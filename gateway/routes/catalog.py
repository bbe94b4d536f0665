"""Gateway routes for the catalogue: the platform's categories, the merchant's products,
and the shopper's product page (which gathers the campaign, joinable teams and reviews)."""
from gateway.routing import route
from gateway.schemas import catalog as s
from plumbing.rpc import RemoteService

SHOP, ADMIN, OPS = "shop", "merchant", "ops"


class CatalogRoutes:
    catalog = RemoteService("catalog")
    teams = RemoteService("teams")
    reviews = RemoteService("reviews")  # the product page's review summary

    # --- shoppers -----------------------------------------------------------
    @route("GET", "/api/v1/categories", "Category tree", SHOP, response=s.CategoryList())
    def list_categories(self, request):
        return {"items": self.catalog.list_categories()}

    @route("GET", "/api/v1/products/<int:product_id>",
           "Product detail in one call: SKUs with stock, campaign and group prices, joinable "
           "teams, review summary with the newest reviews", SHOP, response=s.ProductDetail())
    def get_product(self, request, product_id):
        product = self.catalog.get_product(product_id)  # a missing product asks no one else
        # teams and reviews answer side by side: the page waits for the slower, not both
        group_buy = self.teams.product_group_buy.call_async(product_id)
        reviews = self.reviews.review_summary.call_async(product_id)
        return {**product, **group_buy.result(), "reviews": reviews.result()}

    # --- the platform's categories --------------------------------------------
    @route("GET", "/admin/v1/categories", "The platform's category tree", ADMIN,
           role=("merchant", "ops"), response=s.CategoryList())
    def admin_list_categories(self, request, user):
        return {"items": self.catalog.list_categories()}

    @route("POST", "/admin/v1/categories", "Create a category (two levels); the platform's",
           OPS, role="ops", body=s.CategoryInput(), response=s.Category(), status=201)
    def create_category(self, request, user, body):
        return self.catalog.create_category(body)

    @route("PUT", "/admin/v1/categories/<int:category_id>",
           "Rename, re-order, change the icon or move a category (two levels)", OPS,
           role="ops", body=s.CategoryChange(), response=s.Category())
    def update_category(self, request, user, body, category_id):
        return self.catalog.update_category(category_id, body)

    @route("DELETE", "/admin/v1/categories/<int:category_id>",
           "Delete an empty category (409 while it has products or sub-categories)", OPS,
           role="ops", response=s.Deleted())
    def delete_category(self, request, user, category_id):
        return self.catalog.delete_category(category_id)

    # --- the merchant's products ----------------------------------------------
    @route("GET", "/admin/v1/products", "My products, by status, category, low stock or title",
           ADMIN, role="merchant", query=s.AdminProductQuery(), response=s.AdminProductPage())
    def admin_list_products(self, request, user, query):
        return self.catalog.admin_list_products(user["user_id"], **query)

    @route("POST", "/admin/v1/products", "Create a product (a draft) with its SKUs", ADMIN,
           role="merchant", body=s.ProductInput(), response=s.Product(), status=201)
    def create_product(self, request, user, body):
        return self.catalog.create_product(user["user_id"], body)

    @route("GET", "/admin/v1/products/<int:product_id>", "One of my products", ADMIN,
           role="merchant", response=s.Product())
    def admin_get_product(self, request, user, product_id):
        return self.catalog.admin_get_product(user["user_id"], product_id)

    @route("PUT", "/admin/v1/products/<int:product_id>", "Edit a product and its SKUs", ADMIN,
           role="merchant", body=s.ProductChange(), response=s.Product())
    def update_product(self, request, user, body, product_id):
        return self.catalog.update_product(user["user_id"], product_id, body)

    @route("POST", "/admin/v1/products/<int:product_id>/publish", "List a product", ADMIN,
           role="merchant", response=s.Product())
    def publish_product(self, request, user, product_id):
        return self.catalog.publish_product(user["user_id"], product_id)

    @route("POST", "/admin/v1/products/<int:product_id>/unpublish", "Delist a product", ADMIN,
           role="merchant", response=s.Product())
    def unpublish_product(self, request, user, product_id):
        return self.catalog.unpublish_product(user["user_id"], product_id)

    @route("POST", "/admin/v1/products/<int:product_id>/pin",
           "Recommend a product (推荐) on the home page; lower ranks first", ADMIN,
           role="merchant", body=s.Pin(), response=s.Product())
    def pin_product(self, request, user, body, product_id):
        return self.catalog.pin_product(user["user_id"], product_id, body)

    @route("POST", "/admin/v1/products/<int:product_id>/unpin", "Stop recommending a product",
           ADMIN, role="merchant", response=s.Product())
    def unpin_product(self, request, user, product_id):
        return self.catalog.unpin_product(user["user_id"], product_id)
