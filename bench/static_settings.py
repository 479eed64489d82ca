"""Settings of the Daphne that ``python -m bench.static_files`` measures: the production
settings, with WhiteNoise's own sync middleware in place of ours when
``BENCH_WHITENOISE=stock``."""

import os

from chatsite.settings import *  # noqa: F403
from chatsite.settings import MIDDLEWARE

if os.environ.get("BENCH_WHITENOISE") == "stock":
    MIDDLEWARE = [
        "whitenoise.middleware.WhiteNoiseMiddleware" if name == "chatsite.staticfiles.StaticFilesMiddleware" else name
        for name in MIDDLEWARE
    ]
