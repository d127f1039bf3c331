"""Forms of the groups and dependency pages. They validate; actions.py changes things."""

import re

from django import forms
from django.conf import settings
from django.db.models.functions import Lower

from core.filters import IdsField
from inventory.models import Tag, VirtualMachine
from inventory.rvtools.uploads import extension

from ..choices import DependencyFormat
from ..models import DependencyGroup
from .builders import tag_categories

UPLOAD_EXTENSIONS = (".csv", ".xlsx", ".txt")


def _bootstrap(form):
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif hasattr(widget, "choices") and not isinstance(widget, forms.CheckboxSelectMultiple):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")
    return form


def parse_ports(text: str) -> tuple[int, ...]:
    ports = []
    for part in re.split(r"[\s,;]+", text or ""):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 65535:
            raise forms.ValidationError(f'"{part}" is not a port number (1-65535).')
        ports.append(int(part))
    return tuple(sorted(set(ports)))


class DependencyGroupForm(forms.ModelForm):
    class Meta:
        model = DependencyGroup
        fields = ["name", "description", "priority", "risk", "owner", "notes"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)


class AddMembersForm(forms.Form):
    vms = forms.CharField(
        label="VMs",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="VM names, one per line or separated by commas (not case-sensitive)",
    )
    move = forms.BooleanField(
        label="Move VMs that are in another group",
        required=False,
        help_text="Without this, a VM already in another group is refused",
    )
    reason = forms.CharField(label="Why", max_length=500, required=False, help_text="Kept with each VM added")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)

    def clean_vms(self):
        names = [n.strip() for n in re.split(r"[\n,;]+", self.cleaned_data["vms"]) if n.strip()]
        if not names:
            raise forms.ValidationError("Give at least one VM name.")
        if len(names) > 5000:
            raise forms.ValidationError("At most 5,000 VMs at a time.")
        wanted = {n.lower() for n in names}
        found = list(
            VirtualMachine.objects.filter(removed__isnull=True)
            .annotate(lname=Lower("name"))
            .filter(lname__in=wanted)
            .values_list("pk", "lname")
        )
        missing = sorted(wanted - {lname for _pk, lname in found})
        if missing:
            listed = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
            raise forms.ValidationError(f"No VM in the inventory is named {listed}.")
        return [pk for pk, _ in found]


class RemoveMembersForm(forms.Form):
    select = forms.TypedMultipleChoiceField(coerce=int, label="VMs", choices=())

    def __init__(self, *args, group=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["select"].choices = (
            [(v, v) for v in group.members.values_list("vm_id", flat=True)] if group else []
        )
        self.fields["select"].error_messages["required"] = "Tick the VMs to remove."


class BuildForm(forms.Form):
    """One form for the three builders; `by` says which fields count."""

    BY = [("tag", "vSphere tags"), ("folder", "Folders"), ("pattern", "Name pattern")]
    by = forms.ChoiceField(choices=BY, widget=forms.HiddenInput)
    category = forms.ChoiceField(
        label="Tag category", required=False, help_text="One group per tag of the category"
    )
    tag = forms.ChoiceField(label="or one tag", required=False, help_text="One group for this tag")
    under = forms.CharField(
        label="Folders under",
        required=False,
        max_length=500,
        help_text="Only folders whose path starts with this (empty: every folder)",
    )
    prefix = forms.CharField(
        label="Name prefix",
        required=False,
        max_length=50,
        help_text="Put before each group's name, e.g. app-",
    )
    pattern = forms.CharField(
        label="Pattern", required=False, max_length=200, help_text="crm-* (glob) or ^crm-(web|db)\\d+ (regex)"
    )
    kind = forms.ChoiceField(
        label="Pattern kind",
        choices=[("glob", "Glob (whole name, * and ?)"), ("regex", "Regular expression")],
        required=False,
        initial="glob",
    )
    name = forms.CharField(label="Group name", required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + [(c, c) for c in tag_categories()]
        self.fields["tag"].choices = [("", "—")] + [
            (t, t) for t in Tag.objects.order_by("name").values_list("name", flat=True)[:2000]
        ]
        _bootstrap(self)

    def clean(self):
        data = super().clean()
        by = data.get("by")
        if by == "tag" and not (data.get("category") or data.get("tag")):
            self.add_error("category", "Choose a tag category or a tag.")
        if by == "pattern":
            if not data.get("pattern", "").strip():
                self.add_error("pattern", "Give a name pattern.")
            if not data.get("name", "").strip():
                self.add_error("name", "Give the group a name.")
        return data

    def builder_kwargs(self) -> dict:
        data = self.cleaned_data
        if data["by"] == "tag":
            return {
                "category": data.get("category", ""),
                "tag": data.get("tag", ""),
                "prefix": data.get("prefix", ""),
            }
        if data["by"] == "folder":
            return {"under": data.get("under", ""), "prefix": data.get("prefix", "")}
        return {"pattern": data["pattern"], "kind": data.get("kind") or "glob", "name": data["name"]}


class SuggestionSettingsForm(forms.Form):
    min_seen = forms.IntegerField(
        label="Seen at least",
        min_value=1,
        max_value=10**9,
        required=False,
        help_text="Ignore connections seen fewer times",
    )
    ignore_ports = forms.CharField(
        label="Ignore ports",
        required=False,
        max_length=500,
        help_text="Infrastructure services everyone talks to (DNS, Kerberos, NTP, LDAP)",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)
        self.fields["min_seen"].initial = settings.DEPENDENCIES["SUGGESTION_MIN_SEEN"]

    def clean_ignore_ports(self):
        return parse_ports(self.cleaned_data.get("ignore_ports", ""))

    def settings(self) -> tuple[int, tuple]:
        config = settings.DEPENDENCIES
        data = self.cleaned_data if self.is_valid() else {}
        min_seen = data.get("min_seen") or config["SUGGESTION_MIN_SEEN"]
        # An empty field on a submitted form means "ignore no port"; the first visit uses the setting.
        ports = data["ignore_ports"] if "ignore_ports" in self.data else tuple(config["INFRASTRUCTURE_PORTS"])
        return min_seen, ports


class AcceptSuggestionForm(SuggestionSettingsForm):
    vms = forms.CharField(widget=forms.HiddenInput)
    name = forms.CharField(label="Group name", max_length=200)

    def clean_vms(self):
        try:
            ids = [int(v) for v in self.cleaned_data["vms"].split(",") if v.strip()]
        except ValueError:
            raise forms.ValidationError("The suggestion's VMs are not ids.") from None
        if len(ids) < 2:
            raise forms.ValidationError("A suggestion has two VMs or more.")
        return ids


class GraphFilterForm(forms.Form):
    group = IdsField(
        queryset=DependencyGroup.objects.order_by("name"),
        required=False,
        label="Groups",
        help_text="Connections of these groups only",
    )
    hide_externals = forms.BooleanField(label="Hide external endpoints", required=False)
    min_seen = forms.IntegerField(label="Seen at least", min_value=1, required=False)
    ignore_ports = forms.CharField(
        label="Hide ports",
        required=False,
        max_length=500,
        help_text="Infrastructure services every server talks to; empty shows all",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)
        self.fields["group"].widget.attrs["size"] = 4
        self.fields["ignore_ports"].initial = ", ".join(
            str(p) for p in settings.DEPENDENCIES["INFRASTRUCTURE_PORTS"]
        )

    def clean_ignore_ports(self):
        return parse_ports(self.cleaned_data.get("ignore_ports", ""))


class DependencyUploadForm(forms.Form):
    file = forms.FileField(
        label="Dependency file",
        help_text="Azure Migrate's dependency export (.csv or .xlsx), or a .csv of source, destination, port, protocol",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(UPLOAD_EXTENSIONS)}),
    )
    format = forms.ChoiceField(
        label="Format",
        required=False,
        choices=[("", "Recognise from the header row")] + list(DependencyFormat.choices),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        limit_mb = settings.DEPENDENCIES["MAX_UPLOAD_MB"]
        if uploaded.size > limit_mb * 1024 * 1024:
            raise forms.ValidationError(
                f"{uploaded.name} is {uploaded.size / 2**20:.1f} MB; the largest accepted dependency file is {limit_mb} MB."
            )
        if extension(uploaded.name) not in UPLOAD_EXTENSIONS:
            raise forms.ValidationError(
                f"{uploaded.name} is not a dependency export: upload a .csv or an .xlsx file."
            )
        if uploaded.size == 0:
            raise forms.ValidationError(f"{uploaded.name} is empty.")
        return uploaded
