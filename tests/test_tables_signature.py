"""core.tables: the remembered signatures django-tables2 uses to call each cell's render method.

What the lists rely on: every cell still gets exactly the arguments its render method names, and a
method bound to one table is never called with what another table's method asked for.
"""

import functools
import gc

from django_tables2 import utils

from core import tables


class Column:
    def __init__(self, label):
        self.label = label

    def render(self, value, record):
        return f"{self.label}:{value}:{record}"


def test_installed_for_every_cell():
    assert utils.signature is tables.signature


def test_bound_methods_of_two_columns_are_called_on_their_own_instance():
    first, second = Column("a"), Column("b")
    kwargs = {"value": 1, "record": "r", "table": object()}
    assert utils.call_with_appropriate(first.render, kwargs) == "a:1:r"
    assert utils.call_with_appropriate(second.render, kwargs) == "b:1:r"


def test_a_function_and_its_bound_method_keep_their_own_arguments():
    assert tables.signature(Column.render) == (("self", "value", "record"), None)
    assert tables.signature(Column("a").render) == (("value", "record"), None)
    assert tables.signature(Column.render) == (("self", "value", "record"), None)


def test_catch_all_and_callables_that_cannot_be_remembered():
    assert tables.signature(lambda value, **kwargs: value) == (("value",), "kwargs")
    assert tables.signature(functools.partial(lambda a, b: a, 1)) == (("b",), None)
    assert tables.signature({}.get) == (("key", "default"), None)  # no weak reference: not remembered


def test_a_function_made_per_request_is_not_kept():
    def render(value):
        return value

    tables.signature(render)
    assert render in tables._cache
    del render
    gc.collect()
    assert (
        len(
            [
                fn
                for fn in tables._cache
                if fn.__name__ == "render" and fn.__qualname__.endswith("<locals>.render")
            ]
        )
        == 0
    )
