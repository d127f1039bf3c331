from django import template

register = template.Library()


def _item_text(item) -> str:
    """One entry of a list in a result: a VM with its state or the reason it was refused reads as
    "dns01 (waiting for switchover)" or "dns01: already switching over"; anything else as it is."""
    if isinstance(item, dict) and "vm" in item:
        if item.get("reason"):
            return f"{item['vm']}: {item['reason']}"
        return (
            f"{item['vm']} ({str(item['state']).replace('_', ' ')})" if item.get("state") else str(item["vm"])
        )
    if isinstance(item, dict):
        return " · ".join(f"{str(k).replace('_', ' ')} {v}" for k, v in item.items())
    return str(item)


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
            text = ", ".join(_item_text(v) for v in item) or "none"
        else:
            text = str(item)
        rows.append((label, text))
    return rows


@register.filter
def for_reader(text, user):
    """A message as `user` may read it: what a remote system said only for those who configure
    connections (core/remote.py)."""
    from core.remote import for_reader as redact

    return redact(text, user)


@register.filter
def size(value):
    """Bytes as the portal writes sizes (core/sizes.py)."""
    from core.sizes import size_text

    return size_text(value)


@register.filter
def mib_size(value):
    """MiB (inventory's unit) as the portal writes sizes (core/sizes.py)."""
    from core.sizes import mib_text

    return mib_text(value)
