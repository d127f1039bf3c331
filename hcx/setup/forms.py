"""The HCX connection form and the small forms of the set-up page's buttons.

Secrets are write-only: the inputs never carry the stored value, a blank input keeps it, and the
"forget" box beside each clears it (to switch from a pasted key to the Azure path, for instance).
"""

from django import forms
from django.core.validators import URLValidator
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from hcx.forms import BootstrapMixin
from hcx.models import HcxConnection

SECRETS = (
    "password",
    "admin_password",
    "root_password",
    "avs_client_secret",
    "activation_key",
    "cloud_password",
)
URLS = ("connector_url", "appliance_url", "arm_url", "login_url", "cloud_url")
AZURE = (
    "avs_subscription_id",
    "avs_resource_group",
    "avs_private_cloud",
    "avs_tenant_id",
    "avs_client_id",
    "avs_client_secret",
)
CLOUD = ("cloud_url", "cloud_username", "cloud_password")

# Where each field goes on the page, with the words that tell the two Azure paths apart.
SECTIONS = [
    (
        "The HCX Connector",
        "",
        (
            "connector_url",
            "appliance_url",
            "username",
            "password",
            "admin_password",
            "root_password",
            "verify_tls",
            "ca_certificates",
            "location_city",
            "admin_groups",
        ),
    ),
    (
        "Azure: a service principal (recommended)",
        "With these, the portal asks the AVS private cloud for an activation key (the hcxEnterpriseSites API) and reads "
        "the HCX Cloud Manager's address and cloudadmin credentials itself. The principal needs read access to the "
        "private cloud and the right to create HCX activation keys. Leave the URL overrides empty for the public Azure "
        "cloud.",
        (
            "avs_subscription_id",
            "avs_resource_group",
            "avs_private_cloud",
            "avs_tenant_id",
            "avs_client_id",
            "avs_client_secret",
            "arm_url",
            "login_url",
        ),
    ),
    (
        "Or: an activation key pasted from the Azure portal",
        "Without a service principal: in the Azure portal, open the private cloud, then Add-ons → Migration using "
        "HCX → Connect with on-premise using HCX keys; add a key and paste it here, with the Cloud Manager URL and the "
        "cloudadmin credentials from Manage → VMware credentials. When both are filled in, the service principal wins.",
        ("activation_key", "cloud_url", "cloud_username", "cloud_password"),
    ),
]

_http_only = URLValidator(schemes=["http", "https"])


def _formfield(db_field, **kwargs):
    # A typed "hcx.corp.local" means https: HCX answers on nothing else (Django 6's default too).
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class HcxConnectionForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = HcxConnection
        formfield_callback = _formfield
        fields = [name for _, _, names in SECTIONS for name in names]
        widgets = {"ca_certificates": forms.Textarea(attrs={"rows": 4, "spellcheck": "false"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored = {name: getattr(self.instance, name) or "" for name in SECRETS}
        for name in SECRETS:
            model_field = HcxConnection._meta.get_field(name)
            self.fields[name] = forms.CharField(
                label=capfirst(model_field.verbose_name),
                required=False,
                strip=False,
                widget=forms.PasswordInput(
                    render_value=False,
                    attrs={"autocomplete": "new-password", "class": "form-control form-control-sm"},
                ),
                help_text=_("Stored: leave blank to keep it.") if self.stored[name] else _("Not set."),
            )
            self.fields[f"{name}_forget"] = forms.BooleanField(
                label=_("forget the stored value"),
                required=False,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )
            self.initial.pop(name, None)
        for name in URLS:
            self.fields[name].validators.append(_http_only)
        self.fields["connector_url"].required = True
        self.fields["verify_tls"].help_text = _("Leave on; give the CA certificates below for a private CA.")
        self.fields["activation_key"].help_text = (
            _("Stored: leave blank to keep it.")
            if self.stored["activation_key"]
            else _("Not set. Only without a service principal.")
        )

    # --- secrets: blank keeps, "forget" clears ----------------------------------------------------
    def _secret(self, name: str) -> str:
        typed = self.cleaned_data.get(name) or ""
        if typed:
            return typed
        if self.cleaned_data.get(f"{name}_forget"):
            return ""
        return self.stored[name]

    def clean(self):
        cleaned = super().clean()
        for name in SECRETS:
            cleaned[name] = self._secret(name)
        self._check_all_or_nothing(cleaned, AZURE, _("the Azure service principal"))
        if not any(str(cleaned.get(n) or "").strip() for n in AZURE):
            # Without a service principal, nothing fills the Cloud Manager's details in: the pasted
            # key goes with all of them. With one, the AVS step reads them from the private cloud.
            self._check_all_or_nothing(
                cleaned, ("activation_key", *CLOUD), _("the pasted activation key path")
            )
        if cleaned.get("ca_certificates", "").strip():
            from cryptography import x509

            try:
                x509.load_pem_x509_certificates(cleaned["ca_certificates"].strip().encode())
            except ValueError:
                self.add_error(
                    "ca_certificates", _("These are not PEM certificates (-----BEGIN CERTIFICATE----- …).")
                )
        return cleaned

    def _check_all_or_nothing(self, cleaned, names, what):
        given = [n for n in names if str(cleaned.get(n) or "").strip()]
        if given and len(given) < len(names):
            for name in names:
                if name not in given and name not in self.errors:
                    label = HcxConnection._meta.get_field(name).verbose_name
                    self.add_error(
                        name,
                        _("Needed for %(what)s: the %(label)s is missing.") % {"what": what, "label": label},
                    )

    @property
    def changed_fields(self) -> list[str]:
        """For the audit row: the names of what changed, secrets included by name only."""
        secrets = set(SECRETS) | {f"{n}_forget" for n in SECRETS}
        changed = [f for f in self.changed_data if f not in secrets]
        changed += [n for n in SECRETS if self.cleaned_data.get(n, self.stored[n]) != self.stored[n]]
        return sorted(changed)

    def sections(self):
        """[(heading, explanation, [(bound field, forget box or None)])] in page order."""
        return [
            (
                heading,
                text,
                [
                    (self[name], self[f"{name}_forget"] if name in SECRETS and self.stored[name] else None)
                    for name in names
                ],
            )
            for heading, text, names in SECTIONS
        ]


class RunStepsForm(forms.Form):
    """One step's "Run" button, or "Run all remaining steps" (`remaining`)."""

    step = forms.CharField(required=False)
    remaining = forms.BooleanField(required=False)


class TrustCertificateForm(forms.Form):
    sha256 = forms.CharField(max_length=200)
    then_remaining = forms.BooleanField(required=False, initial=True, label=_("then run the remaining steps"))
