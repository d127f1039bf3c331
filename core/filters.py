"""Filters of integer columns that refuse, as a form error, a number no database column holds.

A query parameter such as `?vcenter_id=99999999999999999999` used to reach the database: SQLite's driver
raises OverflowError and PostgreSQL can answer a DataError, a 500 either way (Django 5 makes an
out-of-range `exact` or `gt` on an integer column an empty result, but not on a foreign key, nor in
`__in`). These filters check the range while the filter form validates, before any query: a page shows
the field's error and the API answers 400 with it, as for any other bad filter value. FilterSets use
them for every integer column (tests/test_filter_ranges.py fails on one left out).

Why not a DRF exception handler turning DataError/OverflowError into a 400: the same filtersets serve
the pages, which it would not cover; a PostgreSQL error has already aborted the request's
transaction; and it would blame the client for the server's own overflows (a save, a sum).
"""

import datetime

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1  # what a 64-bit integer column (every id) holds
INTEGER_COLUMNS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)


class IntegerFilter(filters.NumberFilter):
    """A number for an integer column, within a 64-bit column's range (django-filter's NumberFilter
    takes any decimal: the bounds are what it lacks)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", BIGINT_MIN)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)


class IdsField(forms.ModelMultipleChoiceField):
    """Refuses an id beyond the column's range as it refuses a missing one, before the `__in` query."""

    def _check_values(self, value):
        opts = self.queryset.model._meta
        key = opts.pk if self.to_field_name in (None, "pk") else opts.get_field(self.to_field_name)
        if key.get_internal_type() in INTEGER_COLUMNS:
            for pk in value:
                try:
                    number = int(pk)
                except (TypeError, ValueError):
                    continue  # not a number at all: the parent's own message says so
                if not BIGINT_MIN <= number <= BIGINT_MAX:
                    raise forms.ValidationError(
                        self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                    )
        return super()._check_values(value)


class ModelMultipleChoiceFilter(filters.ModelMultipleChoiceFilter):
    """Objects by id, several allowed (`?plan_id=1&plan_id=2`)."""

    field_class = IdsField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO time, handed to the query in UTC. Python takes offsets up to ±23:59, PostgreSQL only
    up to ±15:59 ("time zone displacement out of range", a 500 the API fuzz found with +22:10)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("This time is out of range.", code="invalid") from None


class TimeFilter(filters.IsoDateTimeFilter):
    """For every filter on a time column (the audit log's and the delivery log's From and Until)."""

    field_class = UtcIsoDateTimeField


class SearchFilter(filters.CharFilter):
    """The `q` box of every list and API: one value matched, case-insensitively, against several fields.

    `SearchFilter("name", "site__name")` keeps the rows where any of them contains the value; a field
    given with its own lookup (`"source__ip__startswith"`) is matched with that lookup instead. Blank
    or spaces only: no filtering at all.
    """

    LOOKUPS = frozenset({"exact", "iexact", "contains", "icontains", "startswith", "istartswith"})

    def __init__(self, *fields, **kwargs):
        self.search_fields = fields
        kwargs.setdefault("label", _("Search"))
        super().__init__(**kwargs)

    def filter(self, qs, value):
        value = (value or "").strip()
        if not value:
            return qs
        query = Q()
        for field in self.search_fields:
            lookup = field if field.rsplit("__", 1)[-1] in self.LOOKUPS else f"{field}__icontains"
            query |= Q(**{lookup: value})
        return qs.filter(query)
