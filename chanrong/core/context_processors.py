"""The navigation a user sees, by role (the web shell's one source of menus)."""

from django.urls import reverse


def navigation(request):
    user = getattr(request, "user", None)
    items: list[dict[str, str]] = []
    if user is not None and user.is_authenticated:
        items.append({"key": "home", "label": "工作台", "url": reverse("home")})
        if user.is_enterprise_user:
            items.append(
                {
                    "key": "my_enterprise",
                    "label": "企业信息",
                    "url": reverse("registry:detail", args=[user.enterprise_id]),
                }
            )
        if user.is_government_user or user.is_platform_admin:
            items.append(
                {"key": "enterprises", "label": "企业名录", "url": reverse("registry:list")}
            )
        if user.is_institution_user:
            items.append(
                {"key": "enterprises", "label": "授权企业", "url": reverse("registry:list")}
            )
        items.append({"key": "institutions", "label": "金融机构", "url": reverse("finance:list")})
    return {"nav_items": items}
