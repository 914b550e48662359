from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 with tiny costs: tests create many users; production keeps Django's costs."""

    time_cost = 1
    memory_cost = 64
    parallelism = 1
