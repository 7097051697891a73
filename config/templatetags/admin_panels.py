"""`{% admin_panels %}`: the panels higher apps registered for the object on a change page."""

from django import template

from config.admin_panels import panels_render

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_panels(context) -> str:
    original, opts, request = context.get("original"), context.get("opts"), context.get("request")
    if original is None or opts is None or request is None or not original.pk:
        return ""
    return panels_render(request, original, opts.label_lower)
