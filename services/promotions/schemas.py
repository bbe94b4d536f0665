"""Wire formats of the promotions service's RPC and events (marshmallow)."""
