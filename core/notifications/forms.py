from django import forms
from django.utils.translation import gettext_lazy as _

from core.choices import NotificationEvent
from core.models import Webhook


class PreferencesForm(forms.Form):
    events = forms.MultipleChoiceField(
        label=_("Email me when"),
        choices=NotificationEvent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class WebhookForm(forms.ModelForm):
    """A webhook. The URL is write-only: never shown, kept when left blank on an edit."""

    url = forms.URLField(
        label=_("URL"),
        required=False,
        max_length=2000,
        assume_scheme="https",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("The incoming-webhook URL from Teams or Slack (or any receiver of a JSON POST)."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=NotificationEvent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Webhook
        fields = ["name", "url", "events", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_url = bool(self.instance.pk)  # a saved webhook always has one
        if self.has_url:
            self.fields["url"].help_text = _("A URL is stored and not shown. Leave blank to keep it.")
        self.initial.pop("url", None)

    def clean_url(self):
        url = (self.cleaned_data.get("url") or "").strip()
        if not url:
            if not self.has_url:
                raise forms.ValidationError(_("The webhook needs the URL to post to."))
            return self.instance.url
        if not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError(
                _("The URL must start with https:// (or http:// on a trusted network).")
            )
        return url

    @property
    def changed_fields(self) -> list[str]:
        changed = [f for f in self.changed_data if f != "url"]
        if (self.data.get(self.add_prefix("url")) or "").strip():
            changed.append("url")
        return changed
