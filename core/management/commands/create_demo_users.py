"""`manage.py create_demo_users`: one user per role for the demo, passwords kept in a file.

The passwords are random, made on the first run and kept in `var/demo-credentials.txt`
(mode 0600) so that restarting the demo keeps them. A user whose password no longer
matches the file (or with no line in it) gets a new random one, written back.
"""

import os
import secrets
import string
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.roles import ADMIN, ENGINEER, PLANNER, ROLES, STAKEHOLDER

# Letters and digits only: easy to copy from a terminal with a double click.
ALPHABET = string.ascii_letters + string.digits

FULL_NAMES = {
    PLANNER: ("Priya", "Planner"),
    ENGINEER: ("Eoin", "Engineer"),
    STAKEHOLDER: ("Sam", "Stakeholder"),
    ADMIN: ("Ada", "Admin"),
}


def read_credentials(path: Path) -> dict[str, str]:
    """`user password` per line; lines starting with # are comments."""
    found = {}
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and not line.startswith("#"):
                found[parts[0]] = parts[1]
    return found


def write_credentials(path: Path, credentials: dict[str, str]):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("# AVS Portal demo users (user password), made by create_demo_users. Demo only.\n")
        for user, password in credentials.items():
            f.write(f"{user} {password}\n")
    os.replace(tmp, path)


class Command(BaseCommand):
    help = "Create the demo users planner, engineer, stakeholder and admin; print their passwords."

    def add_arguments(self, parser):
        parser.add_argument(
            "--credentials",
            type=Path,
            default=settings.VAR_DIR / "demo-credentials.txt",
            help="file that keeps the passwords between runs (default: var/demo-credentials.txt)",
        )

    @transaction.atomic
    def handle(self, *args, credentials: Path, **options):
        missing = [r for r in ROLES if not Group.objects.filter(name=r).exists()]
        if missing:
            raise CommandError(f"role groups missing ({', '.join(missing)}): run `manage.py migrate` first")
        known = read_credentials(credentials)
        result, changed = {}, False
        for role in ROLES:
            first, last = FULL_NAMES[role]
            user, created = User.objects.get_or_create(
                username=role,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{role}@stmarys-health.example",
                    "is_staff": role == ADMIN,
                    "is_superuser": role == ADMIN,
                },
            )
            if not created and role == ADMIN and not (user.is_staff and user.is_superuser):
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
            password = known.get(role)
            if not password or not user.check_password(password):
                password = "".join(secrets.choice(ALPHABET) for _ in range(16))
                user.set_password(password)
                user.save(update_fields=["password"])
                changed = True
            user.groups.add(Group.objects.get(name=role))
            result[role] = password
        if changed or set(known) != set(result):
            write_credentials(credentials, result)
        verb = "set new passwords for" if changed else "kept"
        self.stdout.write(f"Demo users: {verb} {', '.join(ROLES)} (passwords in {credentials})")
