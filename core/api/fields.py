"""Serializer fields shared by the API modules."""

from rest_framework import serializers

from core.filters import BIGINT_MAX


class IdField(serializers.IntegerField):
    """An object's id in a request body: a whole number of 1 or more that a 64-bit column holds. A bigger
    one is refused here (400) rather than reaching the query, where SQLite's driver overflows (a 500)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(**kwargs)
