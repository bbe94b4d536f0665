"""Wire formats of the orders service's RPC and events (marshmallow)."""
