"""The small forms of the readiness and approval panels. Which fields a decision needs (a ticket to
approve, a comment to reject) is the action's rule (approval.py), so pages and API say the same."""

from django import forms
from django.utils.translation import gettext_lazy as _

from hcx.choices import MigrationType
from migrations_app.models import Approval


class RevisionForm(forms.Form):
    """The revision the user was looking at; a newer one on the server makes the step stale."""

    revision = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)


class DecisionForm(RevisionForm):
    change_ticket = forms.CharField(
        label=_("Change ticket"),
        required=False,
        max_length=Approval._meta.get_field("change_ticket").max_length,
        help_text=_("Required to approve"),
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to reject"),
    )


class SwitchTypeForm(RevisionForm):
    vm = forms.IntegerField(min_value=1)
    migration_type = forms.ChoiceField(choices=MigrationType.choices)


def first_error(form: forms.Form) -> str:
    for field, errors in form.errors.items():
        name = form.fields[field].label or field if field in form.fields else ""
        return f"{name}: {errors[0]}" if name else errors[0]
    return "The form is not valid."
