"""The contract between the services: every event they send one another, declared once.

`contract.events` declares each event (source, name, version, payload fields with types);
`contract.declare` is how; `contract.examples` holds one example of each for tests and docs;
`contract.wiring` reads who emits and who listens; `python -m contract.docs` writes
docs/events.md. The services may import this package beside the kit; it holds no rules.
"""
