from django import forms
from django.core.exceptions import ValidationError
from django.forms import inlineformset_factory

from inventory.models import Network, VCenter

from .choices import ProfileKind
from .models import HcxNetworkProfilePlan, HcxPlan
from .planning.addresses import ranges_from_text, ranges_to_text, split_list


class ListTextField(forms.CharField):
    """A list typed as text, one value per comma, space or line; the model field validates items."""

    def to_python(self, value):
        return split_list(super().to_python(value))

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def has_changed(self, initial, data):
        return self.to_python(data) != (initial or [])


class BootstrapMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            else:
                widget.attrs.setdefault("class", "form-control form-control-sm")


class HcxPlanForm(BootstrapMixin, forms.ModelForm):
    dns_servers = ListTextField(label="DNS servers", required=False, help_text="IP addresses, comma separated")
    ntp_servers = ListTextField(label="NTP servers", required=False, help_text="Names or addresses, comma separated")
    vcenter = forms.ModelChoiceField(VCenter.objects.all(), required=False, label="On-premises vCenter")
    networks = forms.ModelMultipleChoiceField(
        Network.objects.all(), required=False, label="Networks to extend", widget=forms.SelectMultiple(attrs={"size": 8})
    )

    class Meta:
        model = HcxPlan
        fields = [
            "name", "vcenter", "connector_hostname", "connector_ip", "connector_prefix_length", "connector_gateway",
            "dns_servers", "ntp_servers", "avs_block", "link_type", "bandwidth_mbps", "latency_ms",
            "concurrent_migrations", "estate_vm_count", "networks", "wan_opt", "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class RangesField(forms.CharField):
    def to_python(self, value):
        return ranges_from_text(super().to_python(value))

    def prepare_value(self, value):
        return ranges_to_text(value) if isinstance(value, list) else value

    def has_changed(self, initial, data):
        return self.to_python(data) != (initial or [])


class HcxNetworkProfilePlanForm(BootstrapMixin, forms.ModelForm):
    ip_ranges = RangesField(label="IP ranges", help_text="10.0.0.10-10.0.0.20, 10.0.0.30-10.0.0.35")
    network = forms.ModelChoiceField(Network.objects.all(), required=False, label="Inventory network")

    class Meta:
        model = HcxNetworkProfilePlan
        fields = ["kind", "port_group", "network", "ip_ranges", "gateway", "prefix_length", "primary_dns", "secondary_dns", "mtu"]

    def has_changed(self):
        # An untouched extra form carries only its preset kind and default MTU: it means "no such profile".
        if self.instance.pk is None:
            return bool(set(self.changed_data) - {"kind", "mtu"})
        return super().has_changed()


class BaseProfileFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        kinds = [f.cleaned_data.get("kind") for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        duplicates = sorted({k for k in kinds if k and kinds.count(k) > 1})
        if duplicates:
            raise ValidationError(
                "Each profile kind may appear once; repeated: " + ", ".join(str(ProfileKind(k).label) for k in duplicates) + "."
            )


def profile_formset(plan: HcxPlan | None = None, data=None):
    """An inline formset with one form per profile kind: the existing ones, then the missing ones preset."""
    existing = set(plan.profiles.values_list("kind", flat=True)) if plan and plan.pk else set()
    missing = [k for k in ProfileKind.values if k not in existing]
    formset_class = inlineformset_factory(
        HcxPlan,
        HcxNetworkProfilePlan,
        form=HcxNetworkProfilePlanForm,
        formset=BaseProfileFormSet,
        extra=len(missing),
        max_num=len(ProfileKind.values),
        validate_max=True,
        can_delete=True,
    )
    return formset_class(data, instance=plan or HcxPlan(), prefix="profiles", initial=[{"kind": k} for k in missing])
