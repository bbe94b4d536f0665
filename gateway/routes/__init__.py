"""The gateway's routes, one module per area: each holds a class of `@route` methods
and the services it calls; `gateway.service.GatewayService` is made of them all."""
