from django import forms
from django.utils.translation import gettext_lazy as _

from core.jobs import JobError

from ..discovery.connect import parse_url
from ..models import VCenter


class VCenterForm(forms.ModelForm):
    """A vCenter connection. The password is write-only: never shown, kept when left blank."""

    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = VCenter
        fields = ["name", "url", "username", "password", "verify_tls"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["url"].required = True
        self.fields["username"].required = True
        self.stored_password = self.instance.password if self.instance.pk else ""
        if self.stored_password:
            self.fields["password"].help_text = _(
                "A password is stored. Leave blank to keep it, unless you change the URL."
            )
        self.initial.pop("password", None)

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        try:
            parse_url(url)
        except JobError as exc:
            raise forms.ValidationError(str(exc)) from None
        return url

    def clean_password(self):
        password = self.cleaned_data.get("password") or ""
        if not password and not self.stored_password:
            raise forms.ValidationError(_("A password is needed to connect."))
        # The stored password goes wherever the URL points at the next discovery: a changed URL must
        # not carry it to another server unless whoever changes it knows it.
        url = self.cleaned_data.get("url")
        if not password and self.instance.pk and url is not None and url != self.instance.url:
            raise forms.ValidationError(_("The URL changed: give the password again to send it there."))
        return password or self.stored_password

    @property
    def changed_fields(self) -> list[str]:
        changed = [f for f in self.changed_data if f != "password"]
        if self.cleaned_data.get("password") != self.stored_password:
            changed.append("password")
        return changed
