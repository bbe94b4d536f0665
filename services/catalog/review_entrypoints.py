"""Review and feedback entrypoints of the catalog service (mixed into CatalogService)."""


class ReviewEntrypoints:
    pass
