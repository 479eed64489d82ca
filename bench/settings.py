"""Settings of the benchmark process itself (never of the server it starts).

The production settings with a fast password hasher: the bench users never log in
with a password (their sessions are created directly), but creating thousands of
users must not spend seconds in PBKDF2. Daphne runs ``chatsite.settings`` unchanged.
"""

from chatsite.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
