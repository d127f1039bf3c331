"""Placeholder: the RVTools import job handler lands here."""
