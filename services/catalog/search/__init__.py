"""Shopper search of the catalog: the tokenizer and listing rules (rules.py), the search
rows kept in the product's own transaction (index.py), the queries (store.py), input
(schemas.py), answers (views.py) and the entrypoints mixed into CatalogService
(entrypoints.py)."""
