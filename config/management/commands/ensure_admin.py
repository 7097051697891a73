from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create a superuser if none with that name exists, and print how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@example.com")
        parser.add_argument(
            "--password",
            help="Password for a new account ('admin' with DEBUG on; required otherwise).",
        )

    def handle(self, *args, username: str, email: str, password: str | None, **options) -> None:
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is not None:
            self.stdout.write(
                f"Admin account '{username}' already exists; its password is unchanged. "
                "Log in at http://127.0.0.1:8000/admin/"
            )
            return
        if password is None:
            if not settings.DEBUG:
                raise CommandError("--password is required when DEBUG is off")
            password = "admin"  # noqa: S105 - a local demo account on a loopback development server
        user_model.objects.create_superuser(username=username, email=email, password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created admin account. Log in at http://127.0.0.1:8000/admin/ with "
                f"username '{username}' and password '{password}'."
            )
        )
