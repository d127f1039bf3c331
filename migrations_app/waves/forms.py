"""Forms of the wave and target-cluster pages. They check the shape of the input; what depends on
the database at the moment of the change is checked again by the actions (waves/actions.py)."""

import datetime
import zoneinfo
from functools import lru_cache

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from hcx.choices import MigrationType
from hcx.forms import BootstrapMixin, ListTextField
from hcx.models import AvsInventory, HcxPlan
from inventory.models import Network
from migrations_app.choices import MappingTarget
from migrations_app.models import TargetCluster, Wave

from .actions import WAVE_FIELDS
from .planfile import ALLOWED_EXTENSIONS
from .validation import cluster_problems, wave_target_problems


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def validate_time_zone(name: str) -> str:
    """An IANA time zone name (Europe/Amsterdam, UTC); anything else is refused with an example."""
    if name not in time_zone_names():
        raise ValidationError(
            f"{name!r} is not a time zone name; use an IANA name such as Europe/Amsterdam, America/New_York or UTC."
        )
    return name


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in time_zone_names()]


class TimeZoneField(forms.ChoiceField):
    """A time zone picked from the IANA zones the server knows (zoneinfo), never typed freehand."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Time zone")
        kwargs.setdefault(
            "error_messages",
            {
                "invalid_choice": "'%(value)s' is not a time zone name; choose one such as Europe/Amsterdam, "
                "America/New_York or UTC."
            },
        )
        super().__init__(choices=time_zone_choices, **kwargs)


def preselect_only_choices(form, *names):
    """On a new, unsubmitted form, choose the only site (or target cluster) there is: one choice is no
    choice to make. A target cluster counts among the preselected site's clusters only."""
    if form.is_bound or getattr(getattr(form, "instance", None), "pk", None):
        return
    for name in names:
        if name not in form.fields or form.initial.get(name) not in (None, ""):
            continue
        queryset = form.fields[name].queryset
        if name == "target_cluster" and form.initial.get("site") not in (None, ""):
            queryset = queryset.filter(site_id=form.initial["site"])
        only = list(queryset.order_by().values_list("pk", flat=True)[:2])
        if len(only) == 1:
            form.initial[name] = only[0]


def local_to_aware(value: datetime.datetime, zone_name: str) -> datetime.datetime:
    """A wall-clock time in the wave's time zone, as an aware datetime. A time that the clocks skip
    (the hour lost when summer time starts) is refused rather than moved silently."""
    zone = zoneinfo.ZoneInfo(zone_name)
    aware = value.replace(tzinfo=zone)
    if aware.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None) != value:
        raise ValidationError(
            f"{value:%Y-%m-%d %H:%M} does not exist in {zone_name} (the clocks skip it when summer time starts)."
        )
    return aware


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed as a wall-clock time; the form attaches the wave's time zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value):
        with timezone.override(datetime.UTC):
            result = super().to_python(value)
        return timezone.make_naive(result, datetime.UTC) if result is not None else None

    def prepare_value(self, value):
        return value  # naive wall-clock values, never converted to the server's zone


class TargetClusterForm(BootstrapMixin, forms.ModelForm):
    datastores = ListTextField(
        label="Datastores",
        required=False,
        help_text="The cluster's datastores waves may target, comma separated (vsanDatastore...)",
    )
    folders = ListTextField(
        label="VM folders", required=False, help_text="Folders waves may target, comma separated"
    )

    class Meta:
        model = TargetCluster
        fields = ["site", "name", "sku", "hosts", "failures_to_tolerate", "datastores", "folders"]
        help_texts = {
            "hosts": "3 to 16 hosts per AVS cluster",
            "failures_to_tolerate": "The vSAN storage policy's FTT with RAID-1 mirroring (AVS default: 1)",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        preselect_only_choices(self, "site")

    def clean(self):
        data = super().clean()
        for name, message in cluster_problems(data.get("hosts"), data.get("failures_to_tolerate")).items():
            if not self.has_error(name):
                self.add_error(name, message)
        return data


# Wave fields offered as choices from the site's AVS inventory (hcx/avs_inventory.py), by its kind.
AVS_CHOICES = {
    "target_datastore": "datastores",
    "target_resource_pool": "resource_pools",
    "target_folder": "folders",
}


class WaveForm(BootstrapMixin, forms.ModelForm):
    """The wave's fields. Window times are typed as wall-clock times in the wave's own time zone; an edit
    carries the revision it was made on, so that saving over a newer revision is refused."""

    window_start = LocalDateTimeField(label="Change window start", required=False)
    window_end = LocalDateTimeField(label="Change window end", required=False)
    time_zone = TimeZoneField(initial="UTC", help_text="The change window's time zone")
    site = forms.ModelChoiceField(
        HcxPlan.objects.order_by("name"),
        required=False,
        label="Site",
        help_text="The on-premises site whose service mesh carries the wave",
    )
    target_cluster = forms.ModelChoiceField(
        TargetCluster.objects.select_related("site"),
        required=False,
        label="Target cluster",
        help_text="An AVS cluster of the site",
    )
    max_tb = forms.DecimalField(
        label="TiB cap",
        required=False,
        min_value=0,
        max_digits=8,
        decimal_places=2,
        help_text="Most used storage the wave may carry",
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Wave
        fields = WAVE_FIELDS  # what a change to a wave may set (waves/actions.py)
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        wave = self.instance
        if wave.pk:
            zone = zoneinfo.ZoneInfo(wave.time_zone) if wave.time_zone in time_zone_names() else datetime.UTC
            for name in ("window_start", "window_end"):
                value = getattr(wave, name)
                self.initial[name] = value.astimezone(zone).replace(tzinfo=None) if value else None
            self.initial["revision"] = wave.revision
            if wave.time_zone not in time_zone_names():
                # Saved before the zone was a choice: the browser would otherwise show (and save) the
                # first zone of the list. An empty choice makes the planner pick one.
                self.fields["time_zone"].choices = [
                    ("", f"Choose one ({wave.time_zone} is no time zone)"),
                    *time_zone_choices(),
                ]
        preselect_only_choices(self, "site", "target_cluster")
        self.avs_site, self.avs_inventory = self._avs_inventory()
        if self.avs_inventory is not None:
            for name, kind in AVS_CHOICES.items():
                attrs = {**self.fields[name].widget.attrs, "class": "form-select form-select-sm"}
                self.fields[name].widget = forms.Select(attrs=attrs, choices=self._avs_choices(name, kind))

    def _avs_inventory(self):
        """The wave's site (the one posted or given, else the wave's) and its AVS inventory, if read."""
        site = self.instance.site if self.instance.pk else None
        wanted = self.data.get("site") if self.is_bound else self.initial.get("site")
        if wanted:
            site = HcxPlan.objects.filter(pk=wanted).first() if str(wanted).isdigit() else site
        if site is None:
            return None, None
        return site, AvsInventory.objects.filter(site=site).first()

    def _avs_choices(self, name: str, kind: str) -> list[tuple[str, str]]:
        """The AVS side's names, and the current value even when AVS no longer lists it."""
        offered = self.avs_inventory.names(kind)
        current = (
            self.data.get(name) if self.is_bound else self.initial.get(name, getattr(self.instance, name, ""))
        )
        choices = [("", "—")] + [(n, n) for n in offered]
        if current and current not in offered:
            choices.insert(1, (current, f"{current} (not in the AVS inventory)"))
        return choices

    def clean(self):
        data = super().clean()
        zone = data.get("time_zone")
        if zone:
            for name in ("window_start", "window_end"):
                if data.get(name) is not None:
                    try:
                        data[name] = local_to_aware(data[name], zone)
                    except ValidationError as error:
                        self.add_error(name, error)
        for name, message in wave_target_problems(data).items():
            if not self.has_error(name):
                self.add_error(name, message)
        return data

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class MigrationTypeForm(forms.Form):
    migration_type = forms.ChoiceField(
        choices=[("", "Wave default")] + list(MigrationType.choices), required=False
    )


def ids_from(data, name: str) -> list[int]:
    """The integer ids posted under `name` (checkboxes); anything else is dropped."""
    ids = []
    for raw in data.getlist(name):
        try:
            value = int(raw)
        except (TypeError, ValueError):
            continue
        if 0 < value < 2**63:  # what an id column can hold
            ids.append(value)
    return ids


class MappingForm(BootstrapMixin, forms.Form):
    """Where a source network lands. The wave page sends `target` ("kind:name", chosen from what the site
    offers: network_targets.AvsTargets.choices); `target_kind` and `target_name` are the free text, taken
    when nothing is offered yet, or for a segment typed before the AVS inventory was read (`target`
    empty). Whether the target is offered is the action's check (do_save_mapping), the API's too."""

    source = forms.ModelChoiceField(
        Network.objects.all(),
        label="Source network",
        error_messages={"invalid_choice": "That network is not in the inventory."},
    )
    target = forms.CharField(max_length=330, required=False, label="Target network")
    target_kind = forms.ChoiceField(choices=MappingTarget.choices, label="Lands on", required=False)
    target_name = forms.CharField(
        max_length=300,
        label="Target network",
        required=False,
        help_text="The extended network's or AVS segment's name",
    )

    def clean(self):
        data = super().clean()
        chosen = (data.get("target") or "").strip()
        if chosen:
            kind, _, name = chosen.partition(":")
            if kind not in MappingTarget.values or not name.strip():
                raise ValidationError({"target": "Choose the target from the list."})
            data["target_kind"], data["target_name"] = kind, name.strip()
            return data
        data["target_name"] = (data.get("target_name") or "").strip()
        if not data["target_name"]:
            raise ValidationError({"target_name": "Name the network the VMs land on."})
        if not data.get("target_kind"):
            raise ValidationError({"target_kind": "Say whether it is an extended network or an AVS segment."})
        return data


class PlanUploadForm(forms.Form):
    file = forms.FileField(label="Wave plan", help_text="A .csv or .xlsx as the export gives it")
    check_only = forms.BooleanField(
        required=False,
        label="Only check the file; change nothing",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        limit = settings.MAX_UPLOAD_MB * 1024 * 1024
        if uploaded.size > limit:
            raise ValidationError(
                f"{uploaded.name} is {uploaded.size / 2**20:.1f} MB; the largest accepted upload is "
                f"{settings.MAX_UPLOAD_MB} MB."
            )
        if not uploaded.name.lower().endswith(ALLOWED_EXTENSIONS):
            raise ValidationError(
                f"{uploaded.name} is not a wave plan: upload the .csv or .xlsx the export gives."
            )
        if uploaded.size == 0:
            raise ValidationError(f"{uploaded.name} is empty.")
        return uploaded
