from django.core.management.base import BaseCommand, CommandError

from config.models import SCOPES
from config.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key; the key itself is printed once, as the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--scopes", required=True, help=f"comma-separated: {','.join(SCOPES)}")

    def handle(self, *args, name: str, scopes: str, **options) -> None:
        wanted = [s.strip() for s in scopes.split(",") if s.strip()]
        unknown = sorted(set(wanted) - set(SCOPES))
        if unknown or not wanted:
            given = ", ".join(unknown) or "(none given)"
            raise CommandError(f"unknown scope(s) {given}; choose from {', '.join(SCOPES)}")
        key, secret = api_key_create(name=name, scopes=wanted)
        self.stdout.write(f"Created API key {key.name!r} with scopes {', '.join(key.scopes)}.")
        self.stdout.write("Store it now: it cannot be shown again.")
        self.stdout.write(secret)
