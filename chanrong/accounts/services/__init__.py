"""Account rules, split by subdomain: API tokens (`tokens`), login throttling
(`throttle`), passwords (`passwords`), the second factor (`otp`), sign-in
events (`events`). Views, the API, commands and the login backend call these
functions; they hold no account rules of their own. The names below are the
package's public surface (what `services.X` meant before the split)."""

from .events import record_login, record_logout
from .passwords import (
    EXPIRED,
    FIRST_LOGIN,
    account_deactivated,
    change_password,
    password_change_reason,
    password_max_age,
    password_was_set,
)
from .throttle import (
    LockoutPolicy,
    is_locked,
    locked_until,
    lockout_policy,
    register_login_failure,
    register_login_refused,
    register_login_success,
    unlock,
)
from .tokens import (
    LAST_USED_GRANULARITY,
    TOKEN_PREFIX,
    IssuedToken,
    authenticate_token,
    can_manage_tokens_of,
    create_token,
    hash_token,
    normalise_fingerprint,
    revoke_all_tokens,
    revoke_token,
    token_lifetime,
    token_owners_for,
    tokens_visible_to,
)

__all__ = [
    "EXPIRED",
    "FIRST_LOGIN",
    "LAST_USED_GRANULARITY",
    "TOKEN_PREFIX",
    "IssuedToken",
    "LockoutPolicy",
    "account_deactivated",
    "authenticate_token",
    "can_manage_tokens_of",
    "change_password",
    "create_token",
    "hash_token",
    "is_locked",
    "locked_until",
    "lockout_policy",
    "normalise_fingerprint",
    "password_change_reason",
    "password_max_age",
    "password_was_set",
    "record_login",
    "record_logout",
    "register_login_failure",
    "register_login_refused",
    "register_login_success",
    "revoke_all_tokens",
    "revoke_token",
    "token_lifetime",
    "token_owners_for",
    "tokens_visible_to",
    "unlock",
]
