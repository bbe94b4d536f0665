"""Catalog rules: pure functions, no I/O.

Products move draft -> published <-> unpublished; their SKU list always has 1-50
SKUs with distinct specs. A product may have up to three spec groups (颜色, 尺码 …);
then each SKU is one combination of their values and its spec is worked out from
it, else each SKU names itself with a free-text spec.

A stock reservation moves reserved -> committed (the units are sold) or
reserved -> released (the units go back); both ends are final, and repeating the
move that got there is a harmless no-op, so callers can retry.
An order's stock is the reservation `order-<order_id>`: committed when the order goes
to ship, released when it is cancelled or refunded.

A product is in group buy while one of its campaigns (copies of the teams service's)
runs: started, not yet ended, not invalidated. It is worked out from the clock when
asked, so it turns on and off as time passes without anything firing.
"""
from datetime import timedelta

from plumbing.errors import BadRequest, Conflict, NotFound
from plumbing.validation import invalid  # noqa: F401  (domain.invalid is used across catalog)

DRAFT, PUBLISHED, UNPUBLISHED = "draft", "published", "unpublished"
PRODUCT_STATUSES = (DRAFT, PUBLISHED, UNPUBLISHED)
RESERVED, COMMITTED, RELEASED = "reserved", "committed", "released"
MAX_SKUS = 50
MAX_SPEC_GROUPS = 3
MAX_SPEC_VALUES = 20
MAX_SPEC_LENGTH = 64  # skus.spec, and the copies teams and orders keep of it
SPEC_SEPARATOR = " / "


# --- spec groups and SKUs ---------------------------------------------------------

def spec_key(spec):
    """Specs that differ only in case or spacing look the same to a shopper."""
    return " ".join(spec.split()).casefold()


def check_spec_groups(groups):
    """[{"name": "颜色", "values": ["红色", "蓝色"]}, …]: at most three groups with
    distinct names, each with 1-20 distinct values (distinct as a shopper reads them:
    "L" and " l" are one value)."""
    errors = {}
    if len(groups) > MAX_SPEC_GROUPS:
        errors["spec_groups"] = [f"A product has at most {MAX_SPEC_GROUPS} spec groups."]
    names = set()
    for index, group in enumerate(groups):
        if spec_key(group["name"]) in names:
            errors[f"spec_groups.{index}.name"] = [f"The group \"{group['name']}\" is named twice."]
        names.add(spec_key(group["name"]))
        values = group["values"]
        if not 1 <= len(values) <= MAX_SPEC_VALUES:
            errors[f"spec_groups.{index}.values"] = [
                f"A spec group has between 1 and {MAX_SPEC_VALUES} values."]
        seen = set()
        for position, value in enumerate(values):
            if spec_key(value) in seen:
                errors[f"spec_groups.{index}.values.{position}"] = [
                    f"The value \"{value}\" is listed twice."]
            seen.add(spec_key(value))
    if errors:
        raise invalid(errors)


def check_skus(skus, spec_groups=()):
    """The SKU list a product would end up with, checked as a whole and returned with
    each SKU's `spec` and `spec_values` settled.

    Each SKU is a dict with price, market_price (None when there is none), and either
    spec_values (one value per spec group, in group order; its spec is them joined by
    " / ") when the product has spec groups, or a free-text spec when it has none.
    Specs (so combinations) are distinct; so are the merchant's SKU codes.
    """
    errors = {}
    if not 1 <= len(skus) <= MAX_SKUS:
        errors["skus"] = [f"A product needs between 1 and {MAX_SKUS} SKUs."]
    settled, specs, codes = [], set(), set()
    field = "spec_values" if spec_groups else "spec"
    for index, sku in enumerate(skus):
        spec, values, problem = _settle_spec(sku, spec_groups)
        if problem is None and spec_key(spec) in specs:
            problem = ("This combination of values is used by another SKU." if spec_groups
                       else f"The spec \"{spec}\" is used twice.")
        if problem is not None:
            errors[f"skus.{index}.{field}"] = [problem]
        else:
            specs.add(spec_key(spec))
        code = sku.get("code")
        if code is not None and code.casefold() in codes:
            errors[f"skus.{index}.code"] = [f"The code \"{code}\" is used by another SKU."]
        if code is not None:
            codes.add(code.casefold())
        market_price = sku.get("market_price")
        if market_price is not None and market_price < sku["price"]:
            errors[f"skus.{index}.market_price"] = ["The market price may not be below the price."]
        settled.append({**sku, "spec": spec, "spec_values": values})
    if errors:
        raise invalid(errors)
    return settled


def _settle_spec(sku, spec_groups):
    """-> (spec, spec_values, problem): a problem is the message for a SKU whose spec
    is missing or whose values do not fit the groups."""
    values = list(sku.get("spec_values") or [])
    if not spec_groups:
        if values:
            return None, values, "This product has no spec groups; give a spec instead."
        if not sku.get("spec"):
            return None, values, "Required: each SKU of a product without spec groups has a spec."
        return sku["spec"], [], None
    names = "、".join(group["name"] for group in spec_groups)
    if len(values) != len(spec_groups):
        return None, values, f"Give one value of each spec group, in order: {names}."
    matched = []
    for value, group in zip(values, spec_groups):
        known = {spec_key(option): option for option in group["values"]}
        if spec_key(value) not in known:
            return None, values, (f"\"{value}\" is not a value of {group['name']}: "
                                  f"{'、'.join(group['values'])}.")
        matched.append(known[spec_key(value)])  # the group's own spelling
    spec = SPEC_SEPARATOR.join(matched)
    if len(spec) > MAX_SPEC_LENGTH:
        return None, values, f"The values joined are longer than {MAX_SPEC_LENGTH} characters."
    return spec, matched, None


SKU_DEFAULTS = {"market_price": None, "code": None, "image_url": None, "spec": None,
                "spec_values": []}


def plan_sku_changes(existing, incoming, spec_groups=()):
    """Match the full SKU list a merchant sent against the product's current SKUs,
    and check the result against the product's spec groups as they will be.

    An entry with an id updates that SKU (fields left out keep their value); an entry
    without one is a new SKU; a current SKU not listed is to be removed. When the
    product has no spec groups (any more), SKUs keep their spec as free text.
    Returns (final, removed_ids): `final[i]` is `incoming[i]` merged over the SKU it
    names, spec settled (check_skus), with "id" None for new ones.
    """
    current = {sku["id"]: sku for sku in existing}
    errors, final, listed = {}, [], set()
    for index, entry in enumerate(incoming):
        sku_id = entry.get("id")
        if sku_id is not None and sku_id not in current:
            errors[f"skus.{index}.id"] = [f"This product has no SKU {sku_id}."]
        elif sku_id is not None and sku_id in listed:
            errors[f"skus.{index}.id"] = [f"SKU {sku_id} is listed twice."]
        listed.add(sku_id)
        merged = {**SKU_DEFAULTS, **current.get(sku_id, {}), **entry, "id": sku_id}
        if not spec_groups and "spec_values" not in entry:
            merged["spec_values"] = []
        final.append(merged)
    if errors:
        raise invalid(errors)
    return check_skus(final, spec_groups), [sku_id for sku_id in current if sku_id not in listed]


def check_removable(removed_ids, reserved_ids):
    """A SKU holding reserved (not yet committed or released) stock must stay, or the
    release that returns those units would have nowhere to put them."""
    blocked = sorted(set(removed_ids) & set(reserved_ids))
    if blocked:
        raise Conflict("sku_has_reservations",
                       "A SKU with reserved stock cannot be removed; try again once its "
                       "orders are paid or cancelled.",
                       details={str(sku_id): ["This SKU has reserved stock."]
                                for sku_id in blocked})


def lowers_a_price(current_prices, incoming):
    """Whether an SKU edit lowers the price of a SKU there is now (`current_prices`:
    {sku_id: price}); only then can it fall to a campaign's group price."""
    return any(entry.get("id") in current_prices and "price" in entry
               and entry["price"] < current_prices[entry["id"]] for entry in incoming)


def check_above_group_prices(skus, group_prices):
    """Every group price (teams': [{campaign_id, sku_id, group_price}]) stays below the
    price of its SKU, or a team would open dearer than buying alone."""
    prices = {sku["id"]: sku["price"] for sku in skus if sku.get("id") is not None}
    below = {entry["sku_id"]: entry for entry in group_prices
             if entry["sku_id"] in prices and prices[entry["sku_id"]] <= entry["group_price"]}
    if below:
        raise Conflict("price_below_group_price",
                       "A SKU's price must stay above its group price while the campaign "
                       "runs or is to start; end the campaign first, or keep the price higher.",
                       details={str(sku_id): [
                           f"Campaign {entry['campaign_id']} sells it at {entry['group_price']} "
                           f"fen: the price must be above that."]
                           for sku_id, entry in sorted(below.items())})


def cheapest(skus):
    """The SKU whose price a product is shown at (lowest price, then lowest id)."""
    return min(skus, key=lambda sku: (sku["price"], sku["id"]), default=None)


# --- product status ------------------------------------------------------------

def publish(status, sku_count):
    """True when publishing changes something; publishing twice is a no-op."""
    if status == PUBLISHED:
        return False
    if sku_count < 1:
        raise Conflict("product_has_no_skus", "A product needs at least one SKU to be published.")
    return True


def unpublish(status):
    """True when unpublishing changes something; unpublishing twice is a no-op."""
    if status == UNPUBLISHED:
        return False
    if status == DRAFT:
        raise Conflict("product_not_published", "A draft has never been published.")
    return True


# --- categories ----------------------------------------------------------------

def check_parent(parent_of_parent_id):
    """Categories have two levels: a child's parent must be a top-level category."""
    if parent_of_parent_id is not None:
        raise BadRequest("category_too_deep",
                         "Categories have two levels; the parent must be a top-level category.",
                         details={"parent_id": ["The parent is itself a sub-category."]})


def check_move(category_id, new_parent_id, parent_of_new_parent_id, has_children):
    """Moving a category under `new_parent_id` (None: to the top level) keeps two levels."""
    if new_parent_id is None:
        return
    if new_parent_id == category_id:
        raise BadRequest("category_too_deep", "A category cannot be its own parent.",
                         details={"parent_id": ["This is the category itself."]})
    check_parent(parent_of_new_parent_id)
    if has_children:
        raise BadRequest("category_too_deep",
                         "A category with sub-categories stays at the top level.",
                         details={"parent_id": ["This category has sub-categories."]})


def check_deletable(child_count, product_count):
    """Only an empty category goes: its products and sub-categories would be orphaned."""
    if child_count:
        raise Conflict("category_has_children",
                       f"This category has {child_count} sub-categories; move or delete them first.")
    if product_count:
        raise Conflict("category_has_products",
                       f"{product_count} products are in this category; move them first.")


def category_tree(categories):
    """Flat category dicts (with parent_id) -> top-level ones, each with its children,
    both levels ordered by sort_order, then id."""
    ordered = sorted(categories, key=lambda c: (c["sort_order"], c["id"]))
    children = {}
    for category in ordered:
        children.setdefault(category["parent_id"], []).append(category)
    return [{**top, "children": children.get(top["id"], [])} for top in children.get(None, [])]


# --- stock reservations ------------------------------------------------------

def merge_items(items):
    """[{sku_id, quantity}] -> {sku_id: total quantity}, in sku id order, the order in
    which every transaction locks SKU rows, so two reservations never deadlock."""
    totals = {}
    for item in items:
        totals[item["sku_id"]] = totals.get(item["sku_id"], 0) + item["quantity"]
    return dict(sorted(totals.items()))


def check_sellable(sku_ids, product_statuses):
    """Stock is only reserved for SKUs that exist and whose product is on sale.
    `product_statuses` is {sku_id: its product's status} for the SKUs found."""
    missing = [sku_id for sku_id in sku_ids if sku_id not in product_statuses]
    if missing:
        raise NotFound("sku_not_found", "Some SKUs do not exist.",
                       details={str(sku_id): ["There is no such SKU."] for sku_id in missing})
    unlisted = [sku_id for sku_id in sku_ids if product_statuses[sku_id] != PUBLISHED]
    if unlisted:
        raise Conflict("product_not_published", "Some SKUs belong to a product not on sale.",
                       details={str(sku_id): ["Its product is not on sale."]
                                for sku_id in unlisted})


def check_same_items(reserved, requested):
    """A retry must ask for what the first call reserved; anything else is a different
    reservation sent under a reused id."""
    if reserved != requested:
        raise Conflict("reservation_id_reused",
                       "This reservation id was already used for other items.")


def out_of_stock(requested, available):
    """The error for SKUs whose stock ({sku_id: units left}) is short of the request."""
    return Conflict("out_of_stock", "Some items do not have enough stock.",
                    details={str(sku_id): [f"Only {left} left; {requested[sku_id]} requested."]
                             for sku_id, left in sorted(available.items())})


def commit(state):
    """True when committing changes something; committing twice is a no-op."""
    if state == RELEASED:
        raise Conflict("reservation_released",
                       "This reservation was released; its stock cannot be committed.")
    return state == RESERVED


def release(state):
    """True when releasing returns stock; releasing twice returns it once."""
    if state == COMMITTED:
        raise Conflict("reservation_committed",
                       "This reservation was committed; its stock is sold and cannot be released.")
    return state == RESERVED


def low_stock_crossed(stock_before, stock_after, threshold, already_told):
    """Whether taking stock deserves a low-stock notice to the merchant: it went from
    above the threshold to at or below it, and the merchant has not been told since
    the SKU was last restocked above it (stock that comes back from a cancelled order
    and goes again is the same shortage, not a new one)."""
    return not already_told and stock_after <= threshold < stock_before


def still_told_of_low_stock(already_told, stock, threshold):
    """After a merchant's edit: a SKU restocked (or a threshold lowered) so it is above
    the threshold again is re-armed; its next fall will be told."""
    return bool(already_told) and stock <= threshold


def sales_window_start(today, days=7):
    """The first day of the last `days` days, today included (sales_7d)."""
    return today - timedelta(days=days - 1)


def order_reservation_id(order_id):
    """The reservation an order's stock is held under (the contract with orders)."""
    return f"order-{order_id}"


# --- group buy -------------------------------------------------------------------

def campaign_running(campaign, now):
    """starts_at <= now < ends_at, and not ended early by the merchant."""
    return not campaign["invalidated"] and campaign["starts_at"] <= now < campaign["ends_at"]


def group_buy_product_ids(campaigns, now):
    """The ids of products with a running campaign, from campaign dicts (with product_id)."""
    return {c["product_id"] for c in campaigns if campaign_running(c, now)}


CAMPAIGN_FIELDS = ("product_id", "starts_at", "ends_at", "invalidated", "group_prices",
                   "changed_at")


def campaign_copy(stored, incoming):
    """The copy of a campaign after a `campaign_changed` event.

    Events carry no version, so the one emitted later (changed_at) wins; one whose
    time is unknown is taken as the latest. An invalidation is final whatever order
    the events arrive in, so a late copy of an older state never revives a campaign.
    """
    if stored is None:
        return dict(incoming)
    older = (incoming["changed_at"] is not None and stored["changed_at"] is not None
             and incoming["changed_at"] < stored["changed_at"])
    newest = stored if older else incoming
    return {**newest, "invalidated": stored["invalidated"] or incoming["invalidated"],
            "changed_at": newest["changed_at"] or stored["changed_at"]}
