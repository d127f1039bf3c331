from django import template

register = template.Library()


@register.filter
def as_pairs(value):
    """A job result as (label, text) rows: nested counts read "created 3 · updated 1"."""
    if not isinstance(value, dict):
        return [("", str(value))]
    rows = []
    for key, item in value.items():
        label = str(key).replace("_", " ")
        if isinstance(item, dict):
            text = " · ".join(f"{str(k).replace('_', ' ')} {v}" for k, v in item.items())
        elif isinstance(item, list | tuple):
            text = ", ".join(str(v) for v in item)
        else:
            text = str(item)
        rows.append((label, text))
    return rows
