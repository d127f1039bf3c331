"""Readiness checks of a wave (rules.py, run by actions.py) and its approval workflow (approval.py)."""
