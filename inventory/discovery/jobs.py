"""Placeholder: the discovery job handler lands here."""
