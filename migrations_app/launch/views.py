"""Pages of launching and watching: the live progress of a wave or a batch, a VM migration, a new
batch, launching, and the actions on chosen migrations.

Readers (every role) watch; launching needs `launch_wave` and the actions `control_migration`
(engineers and admins). Launches and actions ask for confirmation first; the work itself is a job
(batches.py, controls.py), and the message links to it.
"""

from django.contrib import messages
from django.db.models import Min
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views import View
from django.views.generic import DetailView

from core.access import PermissionMixin, user_can
from core.generic_views import ObjectListView
from hcx.setup.logins import login_problem
from inventory.tables import PAGINATION
from migrations_app.choices import WaveStatus
from migrations_app.models import Batch, MigrationEvent, VmMigration, Wave
from migrations_app.waves.display import window_text, zone_of

from . import progress
from .binding import launch_blocked
from .consequences import consequences
from .display import bytes_text, eta_text, moment_text, throughput_text
from .filtersets import VmMigrationFilterSet
from .forms import ACTIONS, ActionForm, BatchForm, vms_text
from .tables import VmMigrationTable


def job_message(request, text: str, job) -> None:
    messages.success(
        request, format_html('{} <a href="{}">Follow job #{}</a>.', text, job.get_absolute_url(), job.pk)
    )


def timing(wave: Wave, batch: Batch | None) -> dict:
    """How long the wave (or batch) has been running, against the planner's transfer estimate, how
    sure that estimate is, and (once started) when the copies should be done at the slow end, in the
    wave's time zone."""
    import datetime

    from migrations_app.planner.estimates import estimate_wave, human_duration

    scope = VmMigration.objects.filter(wave=wave, **({"batch": batch} if batch else {}))
    first = scope.aggregate(first=Min("started"))["first"]
    estimate = None if batch else estimate_wave(wave)
    transfer = estimate.transfer if estimate else None
    return {
        "elapsed": human_duration((timezone.now() - first).total_seconds()) if first else None,
        "estimate": f"{human_duration(transfer.low)} – {human_duration(transfer.high)}" if transfer else None,
        "confidence": estimate.assumptions.confidence if transfer else None,
        "finish": moment_text(first + datetime.timedelta(seconds=transfer.high), zone_of(wave))
        if transfer and first
        else None,
    }


class WaveProgressView(ObjectListView):
    """A wave's rollup, its batches, its migrations (filtered and paged in the database) and the latest
    events; the page then follows the stream (or polls the API) and updates itself in place."""

    model = VmMigration
    filterset_class = VmMigrationFilterSet
    table_class = VmMigrationTable
    table_pagination = PAGINATION
    template_name = "launch/progress.html"

    def scope(self) -> tuple[Wave, Batch | None]:
        return get_object_or_404(Wave, pk=self.kwargs["pk"]), None

    def get_queryset(self):
        self.wave, self.batch = self.scope()
        qs = VmMigration.objects.filter(wave=self.wave).select_related("vm", "batch")
        return qs.filter(batch=self.batch) if self.batch else qs

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        fields = filterset.form.fields
        if self.wave:  # one wave's page: its batches to choose from, the VM searched by name
            for name in ("wave_id", "wave", "vm_id", "direction"):
                fields.pop(name, None)
            if self.batch:
                fields.pop("batch")
            else:
                fields["batch"].queryset = self.wave.batches.all()
        else:
            fields["batch"].queryset = Batch.objects.select_related("wave")  # its label names the wave
        return filterset

    def get_table_kwargs(self):
        self.can_act = user_can(self.request.user, VmMigration, "control_migration")
        return {"exclude": [] if self.can_act else ["select"]}

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        table.zone = zone_of(self.wave) if self.wave else None  # ETAs in the wave's time zone
        return table

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        wave, batch = self.wave, self.batch
        batches = [batch] if batch else list(wave.batches.select_related("job"))
        rollups = progress.batch_rollups(b.pk for b in batches) if batches else {}
        stream_query = f"?batch={batch.pk}" if batch else ""
        blocked = launch_blocked(wave, batch)
        context.update(
            wave=wave,
            batch=batch,
            wave_status=progress.wave_status(wave.status),
            window=window_text(wave),
            rollup=progress.rollup(wave, batch),
            timing=timing(wave, batch),
            batches=[(b, rollups.get(str(b.pk), {})) for b in batches],
            events=progress.latest_events(wave, batch),
            events_max=progress.LATEST_EVENTS,
            cursor=progress.latest_cursor(wave, batch),
            stream_url=reverse("migrations_app:wave_progress_stream", args=[wave.pk]) + stream_query,
            poll_url=reverse("api:wave-progress-progress", args=[wave.pk]) + stream_query,
            can_launch=user_can(self.request.user, Batch, "launch_wave") and not blocked,
            # A completed wave needs no word on why it cannot be launched.
            launch_blocked=blocked if wave.status != WaveStatus.COMPLETED else "",
            can_act=self.can_act,
            actions=ACTIONS.values(),
            # HCX refusing the stored password stops the reconciler for the site (hcx/setup/logins.py).
            login_problem=login_problem(wave.site) if wave.site_id else "",
            login_plan=wave.site,
        )
        return context


class BatchProgressView(WaveProgressView):
    """The same page, for one batch."""

    def scope(self):
        batch = get_object_or_404(Batch.objects.select_related("wave", "job"), pk=self.kwargs["pk"])
        return batch.wave, batch


class VmMigrationView(PermissionMixin, DetailView):
    """One VM migration: its figures, every attempt of this VM in the wave, and the events."""

    model = VmMigration
    queryset = VmMigration.objects.select_related("vm", "batch", "wave", "retry_of")
    template_name = "launch/migration.html"

    def get_context_data(self, **kwargs):
        m = self.object
        attempts = (
            VmMigration.objects.filter(wave=m.wave, vm=m.vm).select_related("batch").order_by("created", "pk")
        )
        user = self.request.user
        return super().get_context_data(
            attempts=attempts,
            events=MigrationEvent.objects.filter(migration__in=attempts)
            .select_related("user", "migration")
            .order_by("at", "id"),
            bytes=bytes_text(m.bytes_transferred, m.bytes_total),
            throughput=throughput_text(m.throughput_mbps),
            eta=eta_text(m.eta_seconds, m.updated, zone_of(m.wave)),
            zone=zone_of(m.wave),
            can_act=user_can(user, VmMigration, "control_migration"),
            actions=[a for a in ACTIONS.values() if a.applies_to(m)],
            **kwargs,
        )


class BatchAddView(PermissionMixin, View):
    """Choose groups and/or VMs of the wave that are not migrated yet; the batch is made, then
    launched from its confirmation page."""

    model = Batch
    permission_action = "launch_wave"
    template_name = "launch/batch_add.html"

    def get(self, request, pk):
        wave = get_object_or_404(Wave, pk=pk)
        return self.render(BatchForm(wave=wave), wave)

    def post(self, request, pk):
        from .batches import do_create_batch
        from .errors import LaunchError

        wave = get_object_or_404(Wave, pk=pk)
        form = BatchForm(request.POST, wave=wave)
        if not form.is_valid():
            return self.render(form, wave, status=400)
        try:
            batch = do_create_batch(
                wave,
                acting_user=request.user,
                vms=list(form.cleaned_data["vms"]) or None,
                groups=list(form.cleaned_data["groups"]) or None,
                name=form.cleaned_data["name"],
            )
        except LaunchError as error:
            form.add_error(None, str(error))
            return self.render(form, wave, status=400)
        messages.success(
            request, f"{batch.name} made with {vms_text(batch.migrations.count())}. Launch it when ready."
        )
        return redirect(reverse("migrations_app:batch_launch", args=[batch.pk]))

    def render(self, form, wave, status=200):
        return render(self.request, self.template_name, {"form": form, "wave": wave}, status=status)


class LaunchView(PermissionMixin, View):
    """GET: what will be launched, and a button; POST (with CSRF): launch, and link to the job."""

    model = Batch
    permission_action = "launch_wave"
    template_name = "launch/launch_confirm.html"

    def render(self, context, status=200):
        return render(self.request, self.template_name, context, status=status)


class BatchLaunchView(LaunchView):
    def context(self, batch, error=None):
        migrations = batch.migrations.select_related("vm").order_by("vm__name", "pk")
        return {
            "wave": batch.wave,
            "batch": batch,
            "migrations": migrations,
            "error": error,
            "question": f"Launch {batch.name} of {batch.wave.name}: send {vms_text(len(migrations))} to HCX?",
            "launched": batch.launched,
        }

    def get(self, request, pk):
        batch = get_object_or_404(Batch.objects.select_related("wave"), pk=pk)
        return self.render(self.context(batch))

    def post(self, request, pk):
        from .batches import do_launch_batch
        from .errors import LaunchError

        batch = get_object_or_404(Batch.objects.select_related("wave"), pk=pk)
        try:
            job = do_launch_batch(batch, acting_user=request.user)
        except LaunchError as error:
            return self.render(self.context(batch, error=str(error)), status=400)
        job_message(request, f"{batch.name} is being launched.", job)
        return redirect(reverse("migrations_app:batch", args=[batch.pk]))


class WaveLaunchView(LaunchView):
    def context(self, wave, error=None):
        from .forms import unmigrated_vms

        vms = list(unmigrated_vms(wave))
        return {
            "wave": wave,
            "batch": None,
            "vms": vms,
            "error": error,
            "launched": None,
            "question": f"Launch the whole of {wave.name}: send {vms_text(len(vms))} to HCX as one batch?",
        }

    def get(self, request, pk):
        return self.render(self.context(get_object_or_404(Wave, pk=pk)))

    def post(self, request, pk):
        from .batches import do_launch_wave
        from .errors import LaunchError

        wave = get_object_or_404(Wave, pk=pk)
        try:
            batch = do_launch_wave(wave, acting_user=request.user)
        except LaunchError as error:
            return self.render(self.context(wave, error=str(error)), status=400)
        if batch.job_id:
            job_message(request, f"{wave.name} is being launched as {batch.name}.", batch.job)
        else:
            messages.success(request, f"{wave.name} is being launched as {batch.name}.")
        return redirect(reverse("migrations_app:batch", args=[batch.pk]))


class MigrationActionView(PermissionMixin, View):
    """POST the chosen migrations and an action: first the confirmation page, which lists exactly what
    will happen (and what will be refused, and why); then, confirmed, the job that does it."""

    model = VmMigration
    permission_action = "control_migration"
    template_name = "launch/action_confirm.html"

    def post(self, request, pk):
        from .controls import do_enqueue_control

        wave = get_object_or_404(Wave, pk=pk)
        form = ActionForm(self.chosen(request.POST, wave), wave=wave)
        if not form.is_valid():
            if form.cleaned_data.get("action") and form.cleaned_data.get("ids"):
                return self.confirm_page(form, wave, status=400)
            for error in form.errors.values():
                messages.error(request, " ".join(error))
            return redirect(self.back(wave))
        if not form.cleaned_data["confirm"]:
            return self.confirm_page(form, wave)
        action = form.chosen_action
        try:
            job = do_enqueue_control(
                action.name, list(form.cleaned_data["ids"]), acting_user=request.user, **form.params()
            )
        except ValueError as error:
            form.add_error(None, str(error))
            return self.confirm_page(form, wave, status=400)
        job_message(request, f"{action.label}: {vms_text(len(form.cleaned_data['ids']))} asked.", job)
        return redirect(job.get_absolute_url())

    def chosen(self, data, wave):
        """The posted form; `scope=ready` (the progress page's "ready to switch over" callout) chooses
        the migrations that are ready now, so the confirmation lists what is true when it is asked."""
        from .rollup import ready_migrations

        if data.get("scope") != "ready" or data.getlist("ids"):
            return data
        batch = data.get("batch")
        batch = get_object_or_404(Batch, pk=batch, wave=wave) if batch and batch.isdigit() else None
        data = data.copy()
        data.setlist("ids", [str(pk) for pk in ready_migrations(wave, batch).values_list("pk", flat=True)])
        return data

    def back(self, wave):
        target = self.request.POST.get("next") or ""
        return (
            target
            if target.startswith("/") and not target.startswith("//")
            else reverse("migrations_app:wave_progress", args=[wave.pk])
        )

    def confirm_page(self, form, wave, status=200):
        ok, refused = form.plan()
        action = form.chosen_action
        context = {
            "form": form,
            "wave": wave,
            "action": action,
            "ok": ok,
            "refused": refused,
            "question": action.question.format(n=vms_text(len(ok))),
            "next": self.back(wave),
            "now": timezone.now(),
            "consequences": consequences(action.name, ok),
            "window": window_text(wave),
        }
        return render(self.request, self.template_name, context, status=status)


class VmMigrationListView(WaveProgressView):
    """Every migration of every wave, filtered as the API is (`?wave=&state=&batch=`), without the live parts."""

    template_name = "launch/migration_list.html"

    def get_queryset(self):
        self.wave = self.batch = None
        return VmMigration.objects.select_related("vm", "batch", "wave")

    def get_context_data(self, **kwargs):
        context = super(WaveProgressView, self).get_context_data(**kwargs)
        context["can_act"] = False
        return context

    def get_table_kwargs(self):
        self.can_act = False  # actions are per wave, on its progress page
        return {"exclude": ["select"]}
