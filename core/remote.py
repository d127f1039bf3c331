"""What a remote system said, inside a message everyone may read, and who gets to read it.

An error answer's text (HCX's, Azure's) can say anything: internal host names, user names, the echo
of what was sent. The engineers and admins who configure the connections need it to act; planners and
stakeholders read the same job events and set-up steps and only need to know that the call failed.
Messages keep the remote text in one recognisable form, `— HCX said: «…»`, and every page and API
answer that shows such a message passes it through `for_reader()`.
"""

import re

PATTERN = re.compile(r" — [\w .-]{1,40}? said: «[^«»]*»")
READ_PERMISSION = "hcx.view_hcxconnection"  # engineers and admins: the roles that configure connections


def quoted(who: str, text: str | None) -> str:
    """` — HCX said: «text»`, or "" when there is no text."""
    if not text:
        return ""
    clean = " ".join(str(text).split()).replace("«", '"').replace("»", '"')
    return f" — {who} said: «{clean}»"


def may_read(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(READ_PERMISSION))


def for_reader(text: str | None, user) -> str:
    """`text` as `user` may see it: with what the remote system said for those who configure
    connections, without it for everyone else."""
    if not text or may_read(user):
        return text or ""
    return PATTERN.sub("", text)
