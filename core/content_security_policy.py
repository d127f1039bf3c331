"""The Content-Security-Policy header on every answer (settings.CONTENT_SECURITY_POLICY).

Django 5.2 has none built in. Scripts come only from the portal's own static files (vendored htmx,
Bootstrap, static/js): an injected <script> or on* attribute does not run. Inline styles stay allowed
(style attributes in templates, htmx's indicator styles); they cannot run code.
"""

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
