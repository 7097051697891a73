"""A small demo store and magazine: tags, products, articles, banners, email blocks and slots.

Idempotent: items are matched by external id and slots by key, so `seed_demo` can run on every
`make run` without duplicating anything or undoing an editor's later changes to slot rules.
"""

import random
from dataclasses import dataclass

from django.db import transaction

from content.models import ContentItem, ContentKind, Slot, SlotRule, Tag
from content.registry import DemoOptions
from content.services import content_item_save, tags_ensure

TAG_TREE = {
    "sports": ["football", "running", "cycling"],
    "outdoors": ["hiking", "camping"],
    "tech": ["phones", "laptops", "audio"],
    "home": ["kitchen", "garden"],
    "fashion": ["shoes", "jackets"],
}
BRANDS = {
    "football": ["Kickwell", "Goalline"],
    "running": ["Stride", "Pacer"],
    "cycling": ["Veloce", "Chainring"],
    "hiking": ["Ridge", "Summit Co"],
    "camping": ["Campfire", "Nightsky"],
    "phones": ["Pocketline", "Aurora"],
    "laptops": ["Keystone", "Aurora"],
    "audio": ["Soundfield", "Hush"],
    "kitchen": ["Copperpot", "Larder"],
    "garden": ["Greenthumb", "Larder"],
    "shoes": ["Stride", "Cobble"],
    "jackets": ["Ridge", "Northwind"],
}
PRODUCT_NOUNS = {
    "football": ["match ball", "goalkeeper gloves", "training cones", "boots"],
    "running": ["running shoes", "race vest", "GPS watch", "hydration belt"],
    "cycling": ["road helmet", "bike lights", "saddle bag", "cycling jersey"],
    "hiking": ["trekking poles", "day pack", "trail map set", "hiking socks"],
    "camping": ["two-person tent", "sleeping bag", "camp stove", "head torch"],
    "phones": ["phone case", "fast charger", "screen protector", "power bank"],
    "laptops": ["laptop sleeve", "USB-C dock", "ultrabook", "wireless mouse"],
    "audio": ["noise-cancelling headphones", "earbuds", "bookshelf speakers", "soundbar"],
    "kitchen": ["chef's knife", "cast-iron pan", "coffee grinder", "spice rack"],
    "garden": ["pruning shears", "raised bed", "watering can", "seed kit"],
    "shoes": ["leather boots", "canvas sneakers", "trail shoes", "slippers"],
    "jackets": ["rain shell", "down jacket", "fleece", "windbreaker"],
}
ARTICLES = [
    ("How to choose your first running shoes", "sports/running"),
    ("Five drills for a stronger first touch", "sports/football"),
    ("Commuting by bike through winter", "sports/cycling"),
    ("A weekend on the ridge: a beginner's route", "outdoors/hiking"),
    ("Camping light: what to leave at home", "outdoors/camping"),
    ("Which phone battery lasts longest?", "tech/phones"),
    ("The quiet office: headphones compared", "tech/audio"),
    ("Setting up a laptop for travel", "tech/laptops"),
    ("Seasoning cast iron, properly", "home/kitchen"),
    ("Raised beds for small gardens", "home/garden"),
    ("Boots that last ten years", "fashion/shoes"),
    ("Layering for changeable weather", "fashion/jackets"),
]


@dataclass(frozen=True)
class SeedSummary:
    items: int
    slots: int


def _upsert(external_id: str, kind: ContentKind, tags: list, **fields) -> ContentItem:
    item = ContentItem.objects.filter(external_id=external_id).first()
    if item is None:
        item = ContentItem(external_id=external_id, kind=kind, status=ContentItem.Status.PUBLISHED)
    elif all(getattr(item, k) == v for k, v in fields.items()) and item.kind_id == kind.pk:
        return item
    for name, value in fields.items():
        setattr(item, name, value)
    item.kind = kind
    return content_item_save(item=item, tags=tags, note="demo data")


@transaction.atomic
def seed_content(*, seed: int = 42) -> SeedSummary:
    """Create or refresh the demo catalogue and slots."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    kinds = {k.key: k for k in ContentKind.objects.all()}
    tags = tags_ensure(
        [f"{parent}/{child}" for parent, children in TAG_TREE.items() for child in children]
    )
    items: dict[str, ContentItem] = {}
    items |= _products_seed(rng, kinds["product"], tags)
    items |= _articles_seed(rng, kinds["article"], tags)
    items |= _banners_seed(kinds["banner"], tags)
    items |= _email_blocks_seed(kinds["email-block"])
    slots = _slots_seed(items, kinds["product"])
    return SeedSummary(items=len(items), slots=len(slots))


def _products_seed(
    rng: random.Random, kind: ContentKind, tags: dict[str, Tag]
) -> dict[str, ContentItem]:
    items = {}
    for parent, children in TAG_TREE.items():
        for child in children:
            for n, noun in enumerate(PRODUCT_NOUNS[child]):
                brand = rng.choice(BRANDS[child])
                external_id = f"p-{child}-{n + 1}"
                price = round(
                    rng.uniform(9, 60) * (4 if noun in {"ultrabook", "two-person tent"} else 1), 2
                )
                items[external_id] = _upsert(
                    external_id, kind, [tags[f"{parent}/{child}"]],
                    title=f"{brand} {noun}",
                    body=f"<p>The {brand} {noun}: chosen by our {child} team.</p>",
                    url=f"https://shop.example.com/products/{external_id}",
                    cta_label="View product",
                    priority=rng.randint(0, 10),
                    metadata={"price": price, "brand": brand, "currency": "€",
                              "release_year": rng.randint(2019, 2026)},
                )  # fmt: skip
    return items


def _articles_seed(
    rng: random.Random, kind: ContentKind, tags: dict[str, Tag]
) -> dict[str, ContentItem]:
    items = {}
    for n, (title, path) in enumerate(ARTICLES, start=1):
        external_id = f"a-{n}"
        items[external_id] = _upsert(
            external_id, kind, [tags[path]],
            title=title,
            body=f"<p>{title}. A practical guide from the Tailor demo magazine.</p>"
            "<p>Everything here is made up for the demo.</p>",
            url=f"https://shop.example.com/magazine/{external_id}",
            metadata={"reading_minutes": rng.randint(3, 12)},
        )  # fmt: skip
    return items


def _banners_seed(kind: ContentKind, tags: dict[str, Tag]) -> dict[str, ContentItem]:
    banners = {
        "b-welcome": ("Welcome to the Tailor demo store", None, "Find something you'll love."),
        "b-sports": ("New season, new personal best", "sports", "Kit for every sport."),
        "b-outdoors": ("Out there this weekend?", "outdoors", "Tents, packs and maps."),
        "b-tech": ("Quiet, fast, long-lasting", "tech", "Headphones, phones, laptops."),
        "b-mobile": ("Shop on the go", None, "Our best picks, sized for your phone."),
        "b-winback": ("We miss you: 15 % off", None, "Come back and save on anything."),
    }
    items = {}
    for external_id, (title, parent, text) in banners.items():
        items[external_id] = _upsert(
            external_id, kind,
            [t for p, t in tags.items() if parent and p.startswith(parent)],
            title=title, body=f"<p>{text}</p>", cta_label="Shop now",
            cta_url=f"https://shop.example.com/{parent or ''}", priority=5,
        )  # fmt: skip
    return items


def _email_blocks_seed(kind: ContentKind) -> dict[str, ContentItem]:
    email_blocks = {
        "e-weekly": ("This week's picks", "Fresh arrivals chosen for you."),
        "e-winback": ("We miss you: 15 % off your next order", "Come back and save on anything."),
        "e-new": ("Welcome! Here's how to get started", "Five things new customers love."),
    }
    items = {}
    for external_id, (title, text) in email_blocks.items():
        items[external_id] = _upsert(
            external_id, kind, [], title=title, body=f"<p>{text}</p>",
            cta_label="Open the shop", cta_url="https://shop.example.com/",
        )  # fmt: skip
    return items


# Predictive scores come from personalization's `compute_scores`; a condition is only data here.
WIN_BACK = {"scores.churn": {"$gte": 0.7}}


def _slots_seed(items: dict[str, ContentItem], product: ContentKind) -> list[Slot]:
    return [
        _slot(
            "homepage-hero",
            "Home page hero",
            ["banner"],
            1,
            [items["b-welcome"]],
            [
                ("Mobile visitors", {"device": "mobile"}, [items["b-mobile"]]),
                ("Likely to churn: win back", WIN_BACK, [items["b-winback"]]),
                ("Sports fans", {"affinity.sports": {"$gte": 0.3}}, [items["b-sports"]]),
                ("Outdoor people", {"affinity.outdoors": {"$gte": 0.3}}, [items["b-outdoors"]]),
                ("Tech lovers", {"affinity.tech": {"$gte": 0.3}}, [items["b-tech"]]),
            ],
        ),
        _slot(
            "homepage-recommended",
            "Recommended for you (home page)",
            ["product"],
            6,
            sorted(
                (i for i in items.values() if i.kind_id == product.pk),
                key=lambda i: -i.priority,
            )[:6],
            [("Everyone with a history", {"event_count": {"$gt": 0}}, "recommendations")],
        ),
        _slot(
            "newsletter-top",
            "Newsletter: top block",
            ["email-block"],
            1,
            [items["e-weekly"]],
            [
                ("Likely to churn: win back", WIN_BACK, [items["e-winback"]]),
                ("Win back", {"lifecycle": "at_risk"}, [items["e-winback"]]),
                ("New customers", {"lifecycle": "new"}, [items["e-new"]]),
            ],
        ),
    ]


def _slot(key, name, kind_keys, max_items, defaults, rules) -> Slot:
    slot, created = Slot.objects.get_or_create(
        key=key, defaults={"name": name, "max_items": max_items}
    )
    if not created:
        return slot  # an editor may have changed it since: leave it alone
    slot.allowed_kinds.set(ContentKind.objects.filter(key__in=kind_keys))
    slot.default_items.set(defaults)
    for position, (rule_name, condition, target) in enumerate(rules, start=1):
        rule = SlotRule(slot=slot, position=position, name=rule_name, condition=condition)
        if target == "recommendations":
            rule.strategy = SlotRule.Strategy.RECOMMENDATIONS
            rule.full_clean()
            rule.save()
            rule.kinds.set(slot.allowed_kinds.all())
        else:
            rule.full_clean()
            rule.save()
            rule.items.set(target)
    return slot


def content_demo_seed(options: DemoOptions) -> None:
    """`seed_demo`'s first step: the catalogue and slots everything else builds on."""
    content = seed_content(seed=options.seed)
    options.write(f"demo content: {content.items} items, {content.slots} slots")
