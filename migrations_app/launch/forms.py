"""Forms of launching: a new batch, and an action on chosen migrations (with its confirmation)."""

from dataclasses import dataclass

from django import forms
from django.db.models import Q

from hcx.choices import MigrationType
from inventory.models import VirtualMachine
from migrations_app.choices import MigrationDirection, MigrationState
from migrations_app.models import DependencyGroup, VmMigration, Wave
from migrations_app.waves.forms import LocalDateTimeField, local_to_aware

from .specs import WINDOWED as SWITCHOVER_WINDOW_TYPES

S = MigrationState


def unmigrated_vms(wave: Wave):
    """The wave's VMs that have no migration in progress and none that finished: what a batch may take."""
    taken = VmMigration.objects.filter(
        Q(state__in=S.ACTIVE) | Q(state=S.COMPLETE, direction=MigrationDirection.FORWARD), wave=wave
    ).values("vm_id")
    return VirtualMachine.objects.filter(wave_item__wave=wave).exclude(pk__in=taken).order_by("name", "pk")


class BatchForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, help_text="Empty: Batch <number>")
    groups = forms.ModelMultipleChoiceField(
        queryset=DependencyGroup.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    vms = forms.ModelMultipleChoiceField(
        label="VMs",
        queryset=VirtualMachine.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, wave: Wave, **kwargs):
        super().__init__(*args, **kwargs)
        vms = unmigrated_vms(wave)
        self.fields["vms"].queryset = vms
        self.fields["groups"].queryset = DependencyGroup.objects.filter(
            pk__in=wave.items.filter(vm__in=vms, group__isnull=False).values("group_id")
        ).order_by("name")
        self.fields["name"].widget.attrs["class"] = "form-control"

    def clean(self):
        data = super().clean()
        if not data.get("groups") and not data.get("vms"):
            raise forms.ValidationError("Choose groups or VMs of the wave for the batch.")
        return data


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    question: str  # "{n} VMs" is filled in
    states: frozenset
    refusal: str
    color: str = "primary"
    detail: str = ""  # what HCX does, said on the confirmation page
    types: frozenset = frozenset(MigrationType.values)  # the migration types it applies to
    directions: frozenset = frozenset(MigrationDirection.values)
    type_refusal: str = ""

    def applies_to(self, m: VmMigration) -> bool:
        return m.state in self.states and m.migration_type in self.types and m.direction in self.directions

    def refusal_for(self, m: VmMigration) -> str:
        if m.state in self.states and m.migration_type not in self.types:
            return f"{m.get_migration_type_display()}: {self.type_refusal}"
        return f"{m.get_state_display().lower()}: {self.refusal}"

    # What the progress page's buttons read to enable themselves (static/js/launch-progress.js).
    @property
    def state_list(self) -> str:
        return " ".join(sorted(self.states))

    @property
    def type_list(self) -> str:
        return " ".join(sorted(self.types))

    @property
    def direction_list(self) -> str:
        return " ".join(sorted(self.directions))

    @property
    def applies(self) -> str:
        return ", ".join(
            str(MigrationState(s).label).lower() for s in MigrationState.values if s in self.states
        )


WINDOWED = frozenset(SWITCHOVER_WINDOW_TYPES)  # hcx-wire.md §9.2
NO_SCHEDULE = (
    "vMotion and Cold migrations switch over right after their copy: their switchover cannot be scheduled"
)


ACTIONS = {
    a.name: a
    for a in [
        Action(
            "cancel",
            "Cancel",
            "Cancel the migration of {n}?",
            S.CANCELLABLE,
            "only a migration that has not started its switchover can be cancelled",
            "danger",
            "HCX force-cancels the migration: it stops at once, before any switchover. The source VM stays at "
            "the source site as it is, and what HCX copied to AVS is discarded, except the disks a Seed "
            "Checkpoint keeps for a retry.",
        ),
        Action(
            "retry",
            "Retry",
            "Retry {n} (from the seed checkpoint where HCX kept it)?",
            S.RETRYABLE,
            "only a failed, refused or cancelled migration can be retried",
            "warning",
        ),
        Action(
            "rollback",
            "Roll back",
            "Roll back {n} to the source site?",
            frozenset({S.COMPLETE}),
            "only a finished migration can be rolled back",
            "danger",
            directions=frozenset({MigrationDirection.FORWARD}),
        ),
        Action(
            "switchover_now",
            "Switchover now",
            "Switch over {n} now, outside the planned window?",
            S.RESCHEDULABLE,
            "only a migration waiting for its switchover can switch over now",
            "primary",
            types=WINDOWED,
            type_refusal=NO_SCHEDULE,
        ),
        Action(
            "move_window",
            "Move window",
            "Move the switchover window of {n}?",
            S.RESCHEDULABLE,
            "only a migration that has not switched over can get a new window",
            "secondary",
            types=WINDOWED,
            type_refusal=NO_SCHEDULE,
        ),
    ]
}


def vms_text(n: int) -> str:
    return f"{n} VM{'s' if n != 1 else ''}"


class ActionForm(forms.Form):
    """The action and the chosen migrations; `confirm` is set by the confirmation page's button.
    The window is typed in the wave's time zone."""

    action = forms.ChoiceField(choices=[(a.name, a.label) for a in ACTIONS.values()])
    ids = forms.ModelMultipleChoiceField(
        queryset=VmMigration.objects.none(), error_messages={"required": "Choose the migrations first."}
    )
    start = LocalDateTimeField(required=False, label="New window start")
    end = LocalDateTimeField(required=False, label="New window end")
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, wave: Wave, **kwargs):
        super().__init__(*args, **kwargs)
        self.wave = wave
        self.fields["ids"].queryset = VmMigration.objects.filter(wave=wave).select_related("vm", "batch")
        for name in ("start", "end"):
            self.fields[name].widget.attrs["class"] = "form-control"

    def clean(self):
        data = super().clean()
        if data.get("action") == "move_window" and data.get("confirm"):
            if not data.get("start") or not data.get("end"):
                raise forms.ValidationError("Give the new window's start and end.")
            try:
                data["start"] = local_to_aware(data["start"], self.wave.time_zone)
                data["end"] = local_to_aware(data["end"], self.wave.time_zone)
            except forms.ValidationError as error:
                raise forms.ValidationError(error.messages) from error
            if data["end"] <= data["start"]:
                raise forms.ValidationError("The window must end after it starts.")
        return data

    @property
    def chosen_action(self) -> Action:
        return ACTIONS[self.cleaned_data["action"]]

    def plan(self) -> tuple[list[VmMigration], list[tuple[VmMigration, str]]]:
        """What the action will do: the migrations it applies to, and those it will refuse (and why).
        The controls decide again when they run; this is what the confirmation page says."""
        action = self.chosen_action
        ok, refused = [], []
        for m in sorted(self.cleaned_data["ids"], key=lambda m: (m.vm.name, m.pk)):
            if action.applies_to(m):
                ok.append(m)
            else:
                refused.append((m, action.refusal_for(m)))
        return ok, refused

    def params(self) -> dict:
        data = self.cleaned_data
        return {"start": data["start"], "end": data["end"]} if data["action"] == "move_window" else {}
