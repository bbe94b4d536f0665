"""Wire formats of the notify service's RPC and events (marshmallow)."""
