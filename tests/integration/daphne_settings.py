"""``chatsite.settings`` as production reads it, plus a channel-layer key prefix.

The two-Daphne tests run the real settings (DATABASE_URL, REDIS_URL) with one
addition: channels-redis's ``prefix`` comes from ``CHAT_TEST_REDIS_PREFIX``, so that
runs sharing one Redis (a developer's run beside CI, several engineers on one
machine) never deliver to each other's sockets. The settings read no such variable
themselves (a Redis database number would do the same job but cannot be made
unique per run), hence this module.
"""

import copy
import os

from chatsite.settings import *  # noqa: F403
from chatsite.settings import CHANNEL_LAYERS

CHANNEL_LAYERS = copy.deepcopy(CHANNEL_LAYERS)
if CHANNEL_LAYERS["default"]["BACKEND"] != "channels_redis.core.RedisChannelLayer":
    raise RuntimeError("tests.integration.daphne_settings needs REDIS_URL (the channels-redis layer)")
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = os.environ["CHAT_TEST_REDIS_PREFIX"]
