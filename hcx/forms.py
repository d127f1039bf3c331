import ipaddress
import re

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


class GatewaysField(forms.CharField):
    """The extended networks' gateways typed one line per network, `name gateway/prefix`
    (`App-VLAN101 10.10.41.1/24`); stored as `{"App-VLAN101": "10.10.41.1/24"}`. A name may hold
    spaces: the last word of the line is the gateway. Errors name the line at fault."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            forms.Textarea(
                attrs={"rows": 4, "spellcheck": "false", "placeholder": "App-VLAN101 10.10.41.1/24"}
            ),
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value) or ""
        gateways, errors = {}, []
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            match = re.fullmatch(r"(.+?)\s+(\S+)", line)
            if not match:
                errors.append(
                    f"Line {number} (“{line}”): give the network's name, a space, then its gateway/prefix, "
                    "for example App-VLAN101 10.10.41.1/24."
                )
                continue
            name, cidr = match.group(1).strip(), match.group(2)
            problem = gateway_problem(cidr)
            if problem:
                errors.append(f"Line {number} ({name}): {problem}")
            elif name in gateways:
                errors.append(
                    f"Line {number} ({name}): this network already has a gateway on an earlier line."
                )
            else:
                gateways[name] = cidr
        if errors:
            raise ValidationError(errors)
        return gateways

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{name} {cidr}" for name, cidr in value.items())
        return value

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != (initial or {})
        except ValidationError:
            return True


def gateway_problem(cidr: str) -> str:
    """Why `cidr` is not a usable gateway/prefix, or "" when it is."""
    if "/" not in cidr:
        return f"'{cidr}' has no prefix: write it as gateway/prefix, for example {cidr}/24."
    try:
        interface = ipaddress.ip_interface(cidr)
    except ValueError:
        return f"'{cidr}' is not a gateway/prefix such as 10.10.41.1/24."
    if interface.ip == interface.network.network_address or interface.network.prefixlen >= 31:
        return f"'{cidr}' is the network's own address or its prefix leaves no hosts: give the gateway's address."
    return ""


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
    dns_servers = ListTextField(
        label="DNS servers", required=False, help_text="IP addresses, comma separated"
    )
    ntp_servers = ListTextField(
        label="NTP servers", required=False, help_text="Names or addresses, comma separated"
    )
    vcenter = forms.ModelChoiceField(VCenter.objects.all(), required=False, label="On-premises vCenter")
    networks = forms.ModelMultipleChoiceField(
        Network.objects.all(),
        required=False,
        label="Networks to extend",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    extension_gateways = GatewaysField(
        label="Gateways of the extended networks",
        required=False,
        help_text="One line per network: name gateway/prefix, for example App-VLAN101 10.10.41.1/24. "
        "HCX needs each extended network's gateway to extend it.",
    )

    class Meta:
        model = HcxPlan
        fields = [
            "name",
            "vcenter",
            "connector_hostname",
            "connector_ip",
            "connector_prefix_length",
            "connector_gateway",
            "dns_servers",
            "ntp_servers",
            "avs_block",
            "link_type",
            "bandwidth_mbps",
            "latency_ms",
            "concurrent_migrations",
            "estate_vm_count",
            "networks",
            "extension_gateways",
            "wan_opt",
            "notes",
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
        fields = [
            "kind",
            "port_group",
            "network",
            "ip_ranges",
            "gateway",
            "prefix_length",
            "primary_dns",
            "secondary_dns",
            "mtu",
        ]

    def has_changed(self):
        # An untouched extra form carries only its preset kind and default MTU: it means "no such profile".
        if self.instance.pk is None:
            return bool(set(self.changed_data) - {"kind", "mtu"})
        return super().has_changed()


class BaseProfileFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        kinds = [
            f.cleaned_data.get("kind")
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        duplicates = sorted({k for k in kinds if k and kinds.count(k) > 1})
        if duplicates:
            raise ValidationError(
                "Each profile kind may appear once; repeated: "
                + ", ".join(str(ProfileKind(k).label) for k in duplicates)
                + "."
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
    return formset_class(
        data, instance=plan or HcxPlan(), prefix="profiles", initial=[{"kind": k} for k in missing]
    )
