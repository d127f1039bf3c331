"""Job handlers of launching (found by core.jobs through migrations_app/jobs.py)."""
