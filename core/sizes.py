"""How the portal writes a size: binary units (MiB, GiB, TiB: 1 GiB = 2^30 bytes, as vCenter counts),
with thousands separators. The one helper for sizes on pages; templates use the `size` and
`mib_size` filters (core/templatetags/portal.py), the live pages get the same text from the server."""

KiB = 1024
MiB = KiB**2
GiB = KiB**3
TiB = KiB**4


def size_text(n_bytes) -> str:
    """`512 MiB`, `7.4 GiB`, `1,023.9 GiB`, `12.50 TiB` (a negative or missing size reads 0)."""
    n = max(0, int(n_bytes or 0))
    if n >= TiB:
        return f"{n / TiB:,.2f} TiB"
    if n >= GiB:
        return f"{n / GiB:,.1f} GiB"
    return f"{n / MiB:,.0f} MiB"


def mib_text(mib) -> str:
    """A size stored in MiB (inventory's unit), written as size_text writes bytes."""
    return size_text((mib or 0) * MiB)


def sizes_text(done, total) -> str:
    """`7.4 GiB of 18.6 GiB`: how much of a whole; the part alone when the whole is unknown."""
    return f"{size_text(done)} of {size_text(total)}" if total else size_text(done)


def gib_figure(mib) -> str:
    """A MiB size as a bare GiB figure (`1,234.5`), for a column whose header names the unit."""
    return f"{(mib or 0) / 1024:,.1f}"


def tib_figure(mib) -> str:
    """A MiB size as a bare TiB figure (`12.50`), for a column whose header names the unit."""
    return f"{(mib or 0) / (1024 * 1024):,.2f}"
