"""Logging filters (settings.LOGGING).

Django logs every refused request on `django.request` as a warning, and for a PermissionDenied it
attaches the exception, so each ordinary 403 (a stakeholder opening an engineer's page) wrote a
full traceback into the log. A refusal is not a fault: the one warning line stays, the traceback
goes. Every other exception keeps its traceback.
"""

import logging

from django.core.exceptions import PermissionDenied


class NoPermissionDeniedTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, PermissionDenied):
            record.exc_info, record.exc_text = None, None
        return True
