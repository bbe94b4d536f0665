"""Wire formats of the teams service's RPC and events (marshmallow)."""
