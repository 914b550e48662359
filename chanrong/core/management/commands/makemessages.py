"""Django's makemessages, also extracting `N_(...)` and `_lazy(...)`: the
modules that mark labels for later translation import `gettext_noop as N_`
(eligibility, matching) or `gettext_lazy as _lazy` beside an eager `_`
(registry), and xgettext only knows those functions by their own names."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=N_", "--keyword=_lazy"]
