"""Gateway routes for reviews and feedback (mixed into GatewayService)."""


class ReviewRoutes:
    pass
