"""Wire formats of the payments service's RPC and events (marshmallow)."""
