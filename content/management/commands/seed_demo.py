from django.core.management.base import BaseCommand, CommandError

from content.registry import DemoOptions, demo_seeders


class Command(BaseCommand):
    help = "Create or refresh Tailor's demo data: a small store and magazine with slots."

    def add_arguments(self, parser):
        parser.add_argument(
            "--visitors",
            type=int,
            default=80,
            help="demo visitors demo-1 … demo-N (the default fills every page: the "
            "recommendation evaluation needs 50 with consent and history)",
        )
        parser.add_argument(
            "--seed", type=int, default=42, help="the same seed gives the same data"
        )

    def handle(self, *args, visitors: int, seed: int, **options) -> None:
        if visitors < 0:
            raise CommandError("--visitors must be 0 or more")
        # Each app seeds its own data: content, then the apps above it register theirs.
        demo = DemoOptions(visitors=visitors, seed=seed, write=self.stdout.write)
        for seeder in demo_seeders():
            seeder.seed(demo)
        self.stdout.write(self.style.SUCCESS("demo data ready"))
