"""Celery tasks of launching that are not Jobs: the periodic reconciler (Celery beat)."""
