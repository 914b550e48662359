from django.contrib.auth.backends import ModelBackend


class LockoutModelBackend(ModelBackend):
    """ModelBackend that refuses accounts locked after repeated failures."""
