from django.core.management.base import BaseCommand, CommandError

from content.demo import seed_content
from experiments.demo import seed_experiment
from personalization.demo import seed_visitors


class Command(BaseCommand):
    help = "Create or refresh Tailor's demo data: a small store and magazine with slots."

    def add_arguments(self, parser):
        parser.add_argument(
            "--visitors", type=int, default=50, help="demo visitors demo-1 … demo-N"
        )
        parser.add_argument(
            "--seed", type=int, default=42, help="the same seed gives the same data"
        )

    def handle(self, *args, visitors: int, seed: int, **options) -> None:
        if visitors < 0:
            raise CommandError("--visitors must be 0 or more")
        content = seed_content(seed=seed)
        self.stdout.write(f"demo content: {content.items} items, {content.slots} slots")
        people = seed_visitors(count=visitors, seed=seed)
        self.stdout.write(
            f"demo visitors: {people.created} new (demo-1 … demo-{visitors}), "
            f"{people.events} events"
        )
        if seed_experiment():
            self.stdout.write("demo experiment: home-rail-title (running)")
        self.stdout.write(self.style.SUCCESS("demo data ready"))
