"""Notifications (issue 6): email to users who opted in, and JSON webhooks (Teams/Slack incoming
webhooks), for the events people care about.

An event writes outbox rows (core.models.Notification) in its own transaction (events.notify); after
commit a worker sends them (tasks.deliver -> delivery.deliver), retried with backoff, and a periodic
sweep sends whatever is due should the broker have been down. Webhook URLs are secrets: stored
encrypted, never shown, and scrubbed from every error message.
"""
