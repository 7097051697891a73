import factory
from django.utils.text import slugify

from content.models import ContentItem, ContentKind, Slot, SlotRule, Tag


class ContentKindFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContentKind
        django_get_or_create = ("key",)

    key = "article"
    name = factory.LazyAttribute(lambda k: k.key.replace("-", " ").capitalize())


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Tag {n}")
    slug = factory.LazyAttribute(lambda t: slugify(t.name))
    parent = None
    path = factory.LazyAttribute(lambda t: f"{t.parent.path}/{t.slug}" if t.parent else t.slug)


class ContentItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContentItem
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Item {n}")
    slug = factory.LazyAttribute(lambda i: slugify(i.title))
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    kind = factory.SubFactory(ContentKindFactory)
    body = "<p>Some body text.</p>"
    status = ContentItem.Status.PUBLISHED
    url = factory.LazyAttribute(lambda i: f"https://shop.example.com/{i.slug}")

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)


class SlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Slot
        skip_postgeneration_save = True

    key = factory.Sequence(lambda n: f"slot-{n}")
    name = factory.LazyAttribute(lambda s: s.key.replace("-", " ").title())

    @factory.post_generation
    def default_items(self, create, extracted, **kwargs):
        if create and extracted:
            self.default_items.set(extracted)


class SlotRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlotRule
        skip_postgeneration_save = True

    slot = factory.SubFactory(SlotFactory)
    position = factory.Sequence(lambda n: n)
    condition = factory.LazyFunction(dict)

    @factory.post_generation
    def items(self, create, extracted, **kwargs):
        if create and extracted:
            self.items.set(extracted)
