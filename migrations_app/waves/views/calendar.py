"""The change calendar page: a month of the waves' change windows and the blackout dates."""

from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.views import View

from core.access import PermissionMixin
from migrations_app.choices import WaveStatus
from migrations_app.models import Wave

from ..change_calendar import MonthError, month, parse_month


class WaveCalendarView(PermissionMixin, View):
    """Every role that reads waves reads the calendar; `?month=YYYY-MM`, this month by default."""

    model = Wave

    def get(self, request):
        today = timezone.localdate()
        try:
            first = parse_month(request.GET.get("month"), today)
        except MonthError as error:
            return render(request, "migrations_app/waves_calendar.html", {"error": str(error)}, status=400)
        # Waves the calendar cannot place: a planner should give them a window.
        unscheduled = (
            Wave.objects.filter(Q(window_start__isnull=True) | Q(window_end__isnull=True))
            .exclude(status=WaveStatus.COMPLETED)
            .count()
        )
        return render(
            request,
            "migrations_app/waves_calendar.html",
            {
                "month": month(first, today),
                "unscheduled": unscheduled,
                "weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            },
        )
