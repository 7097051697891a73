"""`{% insights_home %}`: the dashboard's headline on the admin's home page, for those allowed."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def insights_home(context) -> str:
    request = context.get("request")
    if request is None or not request.user.has_perm("insights.view_insights"):
        return ""
    from insights import selectors
    from insights.views import dashboard_cached

    return dashboard_cached(selectors.range_default(), "", full=False)["body"]
