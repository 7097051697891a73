import factory

from experiments.models import Experiment, Metric, Variation


class ExperimentFactory(factory.django.DjangoModelFactory):
    """A draft experiment with a control and a treatment (50/50) and a primary metric.

    Pass `variations=0` for none; `status="running"` to run it.
    """

    class Meta:
        model = Experiment
        skip_postgeneration_save = True

    key = factory.Sequence(lambda n: f"experiment-{n}")
    name = factory.LazyAttribute(lambda e: e.key.replace("-", " ").capitalize())

    @factory.post_generation
    def variations(self, create, extracted, **kwargs):
        if not create or extracted == 0:
            return
        count = extracted or 2
        for position in range(count):
            VariationFactory(
                experiment=self, position=position, key="control" if position == 0 else
                f"treatment-{position}" if count > 2 else "treatment",
                is_control=position == 0, weight=1 / count,
            )  # fmt: skip

    @factory.post_generation
    def metric(self, create, extracted, **kwargs):
        if create and extracted is not False:
            Metric.objects.create(experiment=self, is_primary=True, **kwargs)


class VariationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variation
        skip_postgeneration_save = True

    experiment = factory.SubFactory(ExperimentFactory, variations=0)
    position = 0
    key = factory.Sequence(lambda n: f"variation-{n}")
    weight = 0.5

    @factory.post_generation
    def items(self, create, extracted, **kwargs):
        if create and extracted:
            self.items.set(extracted)

    @factory.post_generation
    def rules(self, create, extracted, **kwargs):
        if create and extracted:
            self.rules.set(extracted)
