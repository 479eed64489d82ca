"""Experiment (``--experiment pubsub``): the production settings with channels-redis's
``RedisPubSubChannelLayer`` instead of ``RedisChannelLayer``. Not used by the server
otherwise; chatsite/settings.py is unchanged."""

from chatsite.settings import *  # noqa: F403
from chatsite.settings import REDIS_URL

CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
