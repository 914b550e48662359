import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
# Files the web workers create (SQLite, uploads) are owner-only (core.filemodes).
os.umask(0o077)
application = get_wsgi_application()
