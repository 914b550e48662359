"""`{% personal_fields enterprise %}`: an enterprise's personal fields as the
signed-in user may see them (masked unless its own), with the
"查看完整信息" button for users who hold the unmask right."""

from django import template

from ..services.personal import personal_view

register = template.Library()


@register.inclusion_tag("registry/partials/personal_fields.html", takes_context=True)
def personal_fields(context, enterprise):
    return {
        "enterprise": enterprise,
        "personal": personal_view(context["user"], enterprise),
    }
