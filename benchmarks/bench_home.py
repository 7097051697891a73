"""Home-page requests per second under gunicorn, personalized vs not, in one run.

Gunicorn serves Tailor on loopback from a test database of this benchmark's own, seeded with
the demo catalogue and slots and one visitor with consent and computed features. The same
home page is requested by keep-alive clients in alternating rounds:

- unpersonalized: no visitor cookie, so every slot shows its default content;
- personalized: the visitor's signed cookie and the consent banner's cookie, so the visitor
  is identified, the page view is recorded (written in bulk, as in production), and every
  slot is decided from the visitor's features and segments.

The ratio personalized / unpersonalized is what personalization costs a page (target ≥ 0.8).
"""

from django.conf import settings
from django.core import signing
from django.db import connection
from django.utils import timezone
from support import CLIENTS, gunicorn, measure, test_database

from consent.cookies import consent_cookie_value
from consent.selectors import policy_current_version
from consent.services import consent_record
from content.demo import seed_content
from personalization.features.models import VisitorFeatures
from personalization.visitors.models import Visitor
from personalization.visitors.selectors import COOKIE_SALT

ROUNDS = 3


def seed() -> str:
    seed_content(seed=42)
    visitor = Visitor.objects.create(external_id="bench-fan", sessions=3)
    consent_record(
        visitor=visitor, choices={"analytics": True, "personalization": True}, source="admin"
    )
    VisitorFeatures.objects.create(
        visitor=visitor, computed_at=timezone.now(), lifecycle="engaged", event_count=12,
        tag_affinities={"sports": 0.9, "football": 0.8}, sessions_30d=5,
    )  # fmt: skip
    signer = signing.get_cookie_signer(salt=settings.TAILOR_VISITOR_COOKIE + COOKIE_SALT)
    # The banner's cookie too, as a browser that chose in the banner sends it with every page.
    choices = consent_cookie_value(
        choices={"analytics": True, "personalization": True, "marketing": False},
        policy_version=policy_current_version(),
    )
    return (
        f"{settings.TAILOR_VISITOR_COOKIE}={signer.sign(str(visitor.uid))}; "
        f"{settings.TAILOR_CONSENT_COOKIE}={choices}"
    )


def main() -> None:
    with test_database():
        cookie = seed()
        if connection.vendor != "postgresql":
            raise SystemExit("bench_home needs PostgreSQL: run it with `make bench`")
        with gunicorn() as port:
            measure(port, None), measure(port, cookie)  # warm both paths' caches
            plain, personal = [], []
            for _ in range(ROUNDS):
                plain.append(measure(port, None))
                personal.append(measure(port, cookie))
    best_plain, best_personal = max(plain), max(personal)
    print(f"home page under gunicorn (2 workers), {CLIENTS} keep-alive clients, best of {ROUNDS}")
    print(f"{'page':<44}{'requests/s':>12}{'ratio':>8}")
    print(f"{'unpersonalized (defaults, no visitor)':<44}{best_plain:>12.1f}{1:>8.2f}")
    print(f"{'personalized (identified, tracked, decided)':<44}{best_personal:>12.1f}"
          f"{best_personal / best_plain:>8.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
