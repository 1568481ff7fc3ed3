"""``manage.py load_demo``: demo lots, a few parked cars and a staff login (printed)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from lots import demo_data


class Command(BaseCommand):
    help = "Load the demo car parks and create (or reset) the staff user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="staff")
        parser.add_argument("--password", default="parking-demo")
        parser.add_argument("--no-parked", action="store_true", help="do not park sample cars")

    def handle(self, *args: Any, **options: Any) -> None:
        lots = demo_data.load(parked=not options["no_parked"])
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(username=options["username"])
        user.is_staff = True
        user.is_superuser = True
        user.set_password(options["password"])
        user.save()
        self.stdout.write(f"Loaded {len(lots)} car parks.")
        self.stdout.write(
            f"Staff login: username {options['username']!r}, password {options['password']!r}"
        )
