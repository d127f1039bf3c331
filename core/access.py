"""Authorization in one place, for pages and API alike.

Every permission is a Django model permission `<app>.<action>_<model>` held by a role
(core/roles.py). Pages use `PermissionMixin`, the API uses `ModelPermissions`; both ask
`required_permission()`. Templates read `perms.<app>.<codename>` to hide what a user cannot do.

A refusal says which roles the page is for (`refusal()`): the styled 403 page (templates/403.html)
shows it, so a person knows whom to ask rather than guess.
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from rest_framework import permissions


def required_permission(model, action: str) -> str:
    """`inventory.view_virtualmachine` for (VirtualMachine, "view"); custom actions work the same way."""
    opts = model._meta
    codename = action if "_" in action else f"{action}_{opts.model_name}"
    return f"{opts.app_label}.{codename}"


def user_can(user, model, action: str) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(required_permission(model, action)))


def refusal(permission: str, method: str = "GET") -> str:
    """What a 403 says: "This page is for engineers and admins." (an action, for a POST)."""
    from .roles import roles_holding, roles_text

    what = "page" if method in ("GET", "HEAD", "OPTIONS") else "action"
    return f"This {what} is for {roles_text(roles_holding(permission))}."


def deny(permission: str, request=None) -> PermissionDenied:
    """The PermissionDenied to raise when `permission` is missing, naming the roles that hold it."""
    return PermissionDenied(refusal(permission, request.method if request is not None else "GET"))


class PermissionMixin(LoginRequiredMixin):
    """A page that needs one permission on its model (default: view). Anonymous users go to login.

    Set `permission_action` ("view", "add", "change", "delete" or a custom codename such as
    "import_inventory"), and `model` or `queryset`.
    """

    permission_action = "view"

    def get_permission_model(self):
        model = getattr(self, "model", None) or getattr(getattr(self, "queryset", None), "model", None)
        if model is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs `model` or `queryset`")
        return model

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        model = self.get_permission_model()
        if not user_can(request.user, model, self.permission_action):
            raise deny(required_permission(model, self.permission_action), request)
        return super().dispatch(request, *args, **kwargs)


class ModelPermissions(permissions.DjangoModelPermissions):
    """DRF: view permission for reads too, and custom actions through `permission_action` on the view."""

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        action = getattr(view, "permission_action", None)
        if action and request.method not in permissions.SAFE_METHODS:
            model = self._queryset(view).model
            return user_can(request.user, model, action)
        return super().has_permission(request, view)
