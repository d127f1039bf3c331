"""django-tables2, made to keep up with our list pages.

django-tables2 (3.0.1) asks `inspect.signature` which arguments a column's `render` takes, again for
every cell it renders (`utils.call_with_appropriate`). On the VM list (50 rows of 13 columns) that
was a fifth of the page's server time (bench/pages.py). A function's signature does not change, so
`install()` remembers it per function: weakly, so that a function built per request is not kept.
"""

import weakref

from django_tables2 import utils

_uncached = utils.signature
_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def signature(fn):
    """`django_tables2.utils.signature`, remembered per function (and per bound or not)."""
    func = getattr(fn, "__func__", None)
    key, bound = (func, True) if func is not None else (fn, False)
    try:
        known = _cache.get(key)
    except TypeError:  # neither hashable nor weakly referable (a builtin's bound method, say)
        return _uncached(fn)
    if known is None:
        known = _cache.setdefault(key, {})
    if bound not in known:
        known[bound] = _uncached(fn)
    return known[bound]


def install():
    utils.signature = signature
