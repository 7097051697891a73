from django.core.management.base import BaseCommand

from config.schedules import DEFAULT_SCHEDULES, schedules_ensure


class Command(BaseCommand):
    help = "Create Tailor's default periodic tasks; existing ones are left as operators set them."

    def handle(self, *args: object, **options: object) -> None:
        created = schedules_ensure()
        for task in created:
            self.stdout.write(f"created periodic task: {task.name} ({task.task})")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(created)} created, {len(DEFAULT_SCHEDULES) - len(created)} already present"
            )
        )
