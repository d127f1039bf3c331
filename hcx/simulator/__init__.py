"""A standalone HCX (and AVS ARM) simulator: a separate HTTP server process that our HCX client
talks to only over HTTP. It must never import Django or the portal, so that it can run anywhere
(`python -m hcx.simulator`). See docs/hcx-simulator.md and docs/hcx-wire.md."""
