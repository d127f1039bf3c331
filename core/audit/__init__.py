"""The audit log, read-only: who did what to which object and when (issue 6). Rows are written by the
action functions through `AuditEntry.record`; nothing here changes them."""
