"""Django's makemessages, also extracting `N_(...)`: the modules that mark
labels for later translation import `gettext_noop as N_` (eligibility,
matching), and xgettext only knows `gettext_noop` by its own name."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=N_"]
