"""Database sessions whose sliding expiry is not a write on every read.

Sessions slide (`SESSION_SAVE_EVERY_REQUEST`: an active user stays signed
in, an idle one is signed out after `SESSION_COOKIE_AGE`), and Django's
database backend does that by rewriting the session row on *every*
request, page views included. On SQLite that is a write per page, which
waits behind any long write transaction and then fails the page.

This store (`SESSION_ENGINE = "chanrong.core.sessions"`) keeps the rule
and drops the cost: an unchanged session only moves its expiry, at most
once per `REFRESH_EVERY`, as a best-effort UPDATE that is skipped when the
database is busy (`core.dbbusy.best_effort`; the next request moves it).
The expiry can therefore lag by a minute or by a busy spell, never by a
meaningful part of the 8-hour age. A session whose *data* changed (a
login, a language switch, a message) is saved as usual: that write must
happen, and waits for the lock like any other required write.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import router

from .dbbusy import best_effort, is_busy_error

#: An unchanged session's expiry is rewritten at most this often.
REFRESH_EVERY = timedelta(minutes=1)


class SessionStore(DatabaseSessionStore):
    _stored_expiry: datetime | None = None

    def _get_session_from_db(self):
        stored = super()._get_session_from_db()
        self._stored_expiry = stored.expire_date if stored is not None else None
        return stored

    def save(self, must_create: bool = False) -> None:
        if not must_create and not self.modified and self.session_key is not None:
            data = self._get_session()  # loads it (and its stored expiry) if not yet read
            if self.session_key is not None and self._stored_expiry is not None:
                self._refresh_expiry()
                return
            if not data:
                # A cookie for a session that no longer exists: Django starts
                # a new, empty one. Not worth waiting for.
                best_effort(lambda: self._save(must_create), what="new empty session")
                return
        self._save(must_create)

    def _save(self, must_create: bool) -> None:
        try:
            super().save(must_create=must_create)
        except UpdateError as exc:
            # Django reports any failed UPDATE as "the session was deleted
            # meanwhile" (a 400). A busy database is not that: let it through
            # as itself, so the request answers 503 with Retry-After.
            if is_busy_error(exc.__context__):
                raise exc.__context__ from None
            raise

    def _refresh_expiry(self) -> None:
        expiry = self.get_expiry_date()
        stored = self._stored_expiry
        if stored is not None and expiry - stored < REFRESH_EVERY:
            return
        using = router.db_for_write(self.model)
        key = self.session_key

        def refresh() -> None:
            self.model.objects.using(using).filter(session_key=key).update(expire_date=expiry)

        if best_effort(refresh, using=using, what="session expiry"):
            self._stored_expiry = expiry
