"""Every admin page of the app, defined in its capability's package; imported here to register."""

from personalization.clustering import admin as clustering_admin
from personalization.features import admin as features_admin
from personalization.profiles import admin as profiles_admin
from personalization.recommendations import admin as recommendations_admin
from personalization.scores import admin as scores_admin
from personalization.segments import admin as segments_admin
from personalization.triggers import admin as triggers_admin
from personalization.visitors import admin as visitors_admin

__all__ = [
    "clustering_admin", "features_admin", "profiles_admin", "recommendations_admin",
    "scores_admin", "segments_admin", "triggers_admin", "visitors_admin",
]  # fmt: skip
