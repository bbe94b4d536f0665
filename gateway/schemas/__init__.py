"""The gateway's wire schemas, one module per area (as `gateway/routes/`), and `common`
for what they share."""
