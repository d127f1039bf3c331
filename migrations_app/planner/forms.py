"""The auto-plan form: what the planner asks for, with defaults; the API validates through it too."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.fields import BaseTemporalField
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hcx.choices import MigrationType
from hcx.models import HcxPlan

from ..models import TargetCluster
from ..waves.forms import TimeZoneField, preselect_only_choices
from .autoplan import PlanInputs
from .calendar import WEEKDAYS, BlackoutError, WindowCalendar, parse_blackouts
from .proposals import ProposalRequest, unreachable_site

SATURDAY = 5
MAX_YEARS_AHEAD = 5


def _next_saturday_evening() -> datetime:
    today = timezone.localdate()
    days = (SATURDAY - today.weekday()) % 7 or 7
    return datetime.combine(today + timedelta(days=days), datetime.min.time()).replace(hour=22)


class WallClockDateTimeField(forms.DateTimeField):
    """A date and time as typed: naive means wall-clock time in the form's time zone (applied in
    `clean()`), an explicit offset (API callers) is kept."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value
        try:
            parsed = parse_datetime(str(value).strip())
        except ValueError:
            parsed = None
        if parsed is None:
            # The input formats, without DateTimeField's conversion from the server's time zone.
            parsed = BaseTemporalField.to_python(self, str(value))
        return parsed


class AutoPlanForm(forms.Form):
    site = forms.ModelChoiceField(
        HcxPlan.objects.order_by("name"),
        label="Site",
        help_text="Its HCX deployment plan gives the link bandwidth the estimates use, and the vCenter whose VMs "
        "its HCX migrates: VMs of other vCenters are left out.",
    )
    target_cluster = forms.ModelChoiceField(
        TargetCluster.objects.select_related("site").order_by("site__name", "name"),
        required=False,
        label="Target cluster",
        help_text="Set on every wave created; the waves share what it has left (after the "
        "waves already planned into it). Without one, capacity is not checked.",
    )
    migration_type = forms.ChoiceField(
        choices=MigrationType.choices, initial=MigrationType.BULK, label="Migration type"
    )
    cold_for_powered_off = forms.BooleanField(
        initial=True,
        required=False,
        label="Powered-off VMs move Cold",
        help_text="HCX moves a powered-off VM only with Cold migration.",
    )
    max_vms = forms.IntegerField(min_value=1, max_value=10000, initial=50, label="VMs per wave at most")
    max_tb = forms.DecimalField(
        min_value=0.01, max_value=10000, decimal_places=2, initial=25, label="TB per wave at most"
    )
    pilot_max_vms = forms.IntegerField(
        min_value=1,
        max_value=10000,
        initial=10,
        label="Pilot: VMs at most",
        help_text="The pilot keeps to the smaller of its caps and the waves' caps.",
    )
    pilot_max_tb = forms.DecimalField(
        min_value=0.01, max_value=10000, decimal_places=2, initial=2, label="Pilot: TB at most"
    )
    first_window_start = WallClockDateTimeField(
        label="First change window starts",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Local time in the time zone below; later windows start at the same time of day.",
    )
    window_hours = forms.DecimalField(
        min_value=0.5, max_value=72, decimal_places=1, initial=8, label="Window length (hours)"
    )
    weekdays = forms.TypedMultipleChoiceField(
        choices=list(enumerate(WEEKDAYS)),
        coerce=int,
        initial=[SATURDAY],
        label="Windows on",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one weekday for the windows."},
    )
    time_zone = TimeZoneField(initial=settings.TIME_ZONE, help_text="The change windows' time zone")
    blackout_dates = forms.CharField(
        required=False,
        label="Blackout dates",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="No window touches these: 2030-12-24, 2030-12-31 or 2030-12-20..2031-01-03",
    )
    max_windows = forms.IntegerField(min_value=1, max_value=520, initial=52, label="Windows to use at most")
    include_ungrouped = forms.BooleanField(
        initial=True,
        required=False,
        label="Include VMs in no group",
        help_text="Each such VM is placed on its own; off: only groups are planned.",
    )
    name_prefix = forms.CharField(max_length=150, initial="Wave", label="Wave names start with")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_window_start"].initial = _next_saturday_evening
        preselect_only_choices(self, "site", "target_cluster")
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            else:
                widget.attrs.setdefault("class", "form-control form-control-sm")

    def clean_time_zone(self):
        name = self.cleaned_data["time_zone"].strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                f"“{name}” is not a time zone; use a name such as Europe/Amsterdam or UTC."
            ) from None
        return name

    def clean_blackout_dates(self):
        try:
            return parse_blackouts(self.cleaned_data["blackout_dates"])
        except BlackoutError as exc:
            raise ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        site, cluster = data.get("site"), data.get("target_cluster")
        refusal = unreachable_site(site) if site else None
        if refusal:
            self.add_error("site", refusal)
        if site and cluster and cluster.site_id != site.pk:
            self.add_error("target_cluster", f"{cluster} belongs to another site than {site}.")
        start, zone = data.get("first_window_start"), data.get("time_zone")
        if start and zone:
            # The browser sends a wall-clock time: read it in the chosen zone, not the server's.
            if timezone.is_naive(start):
                start = start.replace(tzinfo=ZoneInfo(zone))
            data["first_window_start"] = start
            if start < timezone.now():
                self.add_error("first_window_start", "The first change window must start in the future.")
            elif start > timezone.now() + timedelta(days=366 * MAX_YEARS_AHEAD):
                self.add_error(
                    "first_window_start",
                    f"The first change window must start within {MAX_YEARS_AHEAD} years.",
                )
        return data

    def proposal_request(self) -> ProposalRequest:
        d = self.cleaned_data
        inputs = PlanInputs(
            migration_type=d["migration_type"],
            max_vms=d["max_vms"],
            max_tb=float(d["max_tb"]),
            pilot_max_vms=d["pilot_max_vms"],
            pilot_max_tb=float(d["pilot_max_tb"]),
            include_ungrouped=d["include_ungrouped"],
            cold_for_powered_off=d["cold_for_powered_off"],
            name_prefix=d["name_prefix"].strip() or "Wave",
        )
        calendar = WindowCalendar(
            first_start=d["first_window_start"],
            hours=float(d["window_hours"]),
            weekdays=frozenset(d["weekdays"]),
            time_zone=d["time_zone"],
            blackouts=frozenset(d["blackout_dates"]),
            max_windows=d["max_windows"],
        )
        return ProposalRequest(
            inputs=inputs, calendar=calendar, site=d["site"], target_cluster=d.get("target_cluster")
        )

    @classmethod
    def defaults(cls) -> dict:
        """The form's initial values as submitted data: what the API fills in for missing fields."""
        form = cls()
        data = {}
        for name, field in form.fields.items():
            value = form.get_initial_for_field(field, name)
            if value is None or name in ("site", "target_cluster"):
                continue
            if isinstance(value, datetime):
                value = value.strftime("%Y-%m-%dT%H:%M")
            data[name] = value
        return data


class AcceptForm(forms.Form):
    """Which waves of a proposal to accept; none ticked with "accept all" means all."""

    waves = forms.TypedMultipleChoiceField(coerce=int, required=False, widget=forms.CheckboxSelectMultiple)
    accept_all = forms.BooleanField(required=False)

    def __init__(self, *args, proposal=None, **kwargs):
        super().__init__(*args, **kwargs)
        numbers = [w["number"] for w in (proposal.data.get("waves", []) if proposal else [])]
        self.fields["waves"].choices = [(n, str(n)) for n in numbers]

    def numbers(self) -> list[int] | None:
        if self.cleaned_data.get("accept_all"):
            return None
        return self.cleaned_data.get("waves") or []
