"""The portal's own 404 page also when DEBUG is on.

scripts/demo runs with DEBUG (plain HTTP, static files from the source tree). Django then answers a
404 with its technical page, listing every URL pattern of the portal, and never calls the 404
handler: a demo visitor who mistypes an address would see a debugging page. With DEBUG off Django
already renders templates/404.html through its handler, so this middleware does nothing there.
(403 pages need no help: Django renders templates/403.html whatever DEBUG says.)
"""

from django.conf import settings
from django.http import Http404
from django.views.defaults import page_not_found


class StyledNotFoundMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # No view was found for the address: Django's technical page came back from URL resolution.
        if settings.DEBUG and response.status_code == 404 and request.resolver_match is None:
            return page_not_found(request, Http404(request.path))
        return response

    def process_exception(self, request, exception):
        # A view said "no such object" (get_object_or_404 and the like).
        if settings.DEBUG and isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None
