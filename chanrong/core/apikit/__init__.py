"""The pieces every app's `api.py` is built from: the error envelope and its
handlers, pagination, and common schema types. They live in the kernel so that
an app's API module depends only downwards; `chanrong.api` assembles the
routers (and the bearer-token check lives with the tokens, in
`chanrong.accounts.api_auth`)."""
