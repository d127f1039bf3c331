"""The guided HCX set-up after the plan: one step per stage of product.md §2, each a
function run by the `hcx.setup` job (runner.py), each idempotent: it reads HCX first, creates only
what is missing, and records what it found on the plan's HcxSetupStep row."""
