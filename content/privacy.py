"""Content holds no visitor's data; its references to users are editors' authorship."""

from consent import registry

# Authorship is the editor's work record, not data about a visitor. Erasing a user anonymizes
# the account itself (see consent/privacy.py), so these rows then point at an anonymous user.
registry.exempt(
    "content.ContentItem.author",
    "the editor who created the item: a staff work record, not the subject's data",
)
registry.exempt(
    "content.ContentRevision.author",
    "the editor who saved a revision: a staff work record, not the subject's data",
)
