import json

from django.core.management.base import BaseCommand, CommandError

from personalization.profiles.selectors import visitor_profile
from personalization.visitors.selectors import visitor_resolve


class Command(BaseCommand):
    help = (
        "Show a visitor's traits, features, segments, clusters, predictive scores, event count "
        "and recent events."
    )

    def add_arguments(self, parser):
        parser.add_argument("visitor_id", help="external id or cookie id")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--events", type=int, default=20, help="how many recent events")

    def handle(self, *args, visitor_id: str, json: bool, events: int, **options) -> None:
        visitor = visitor_resolve(visitor_id)
        if visitor is None:
            raise CommandError(f"no visitor with id {visitor_id!r}")
        profile = visitor_profile(visitor, recent=events)
        if json:
            self.stdout.write(_dumps(profile))
            return
        self.stdout.write(f"visitor   {profile['visitor_id']} (cookie id {profile['uid']})")
        self.stdout.write(f"seen      {profile['first_seen']} … {profile['last_seen']}")
        self.stdout.write(f"sessions  {profile['sessions']}   events {profile['event_count']}")
        self.stdout.write(f"traits    {_dumps(profile['traits'])}")
        consent = ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in profile["consent"].items())
        self.stdout.write(f"consent   {consent}")
        features = profile["features"]
        if features is None:
            self.stdout.write("features  not computed yet (run compute_features)")
        else:
            for name, value in features.items():
                self.stdout.write(
                    f"  {name:<16} {_dumps(value) if isinstance(value, dict | list) else value}"
                )
        self.stdout.write(f"segments  {', '.join(profile['segments']) or '(none)'}")
        self.stdout.write(f"clusters  {', '.join(profile['clusters']) or '(none)'}")
        scores = ", ".join(f"{k}={v:.2f}" for k, v in sorted(profile["scores"].items()))
        self.stdout.write(f"scores    {scores or '(none: run compute_scores)'}")
        self.stdout.write("recent events:")
        for event in profile["recent_events"]:
            item = f" {event['item_id']}" if event["item_id"] else ""
            value = f" value={event['value']}" if event["value"] else ""
            self.stdout.write(f"  {event['occurred_at']}  {event['type']}{item}{value}")


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
