"""PostgreSQL's ``timestamptz`` values read by psycopg's C parser.

Django reads every ``timestamptz`` through its own loader (``psycopg_any.BaseTzLoader``):
a subclass of psycopg's pure-Python ``TimestamptzLoader`` that parses the text in Python
and then sets the value's ``tzinfo`` to the connection's time zone. Subclassing gives up
the C loader that psycopg[binary] puts in its place, so every timestamp of every row
(a conversation list row carries a dozen: the conversation's, its users', its last
message's) was parsed in Python: 3.6 % of the samples of a Daphne taking a reconnect
storm, in the parse alone (docs/PERFORMANCE.md, "a restart's dead time").

``UtcTimestamptzLoader`` parses with psycopg's own loader (C when psycopg[binary] is
installed). That loader gives the value in the session's time zone, which Django sets to
UTC at every connect when ``USE_TZ`` is on (``ensure_timezone``): the same instant with
``datetime.timezone.utc`` as Django's loader gives. A session in another zone (someone ran
``SET TIME ZONE``) gets Django's loader, so the values are Django's in every case.
"""

import datetime

from django.conf import settings
from django.db import connections
from django.db.backends.postgresql.psycopg_any import BaseTzLoader, get_adapters_template
from psycopg import adapters
from psycopg.adapt import Loader
from psycopg.pq import Format

UTC = datetime.UTC  # the very object Django and psycopg use for UTC (datetime.timezone.utc)
TIMESTAMPTZ = adapters.types["timestamptz"].oid
PSYCOPG_LOADER = adapters.get_loader(TIMESTAMPTZ, Format.TEXT)  # C with psycopg[binary]


class DjangoUtcLoader(BaseTzLoader):
    """Django's own loader, as it registers it for a site in UTC."""

    timezone = UTC


class UtcTimestamptzLoader(Loader):
    """psycopg's ``timestamptz`` loader when the session is in UTC, Django's otherwise."""

    timezone = UTC  # what Django's ``create_cursor`` compares with the connection's zone

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        connection = self.connection
        in_utc = connection is not None and connection.info.timezone is UTC
        # The chosen loader's bound ``load`` in place of the method below: psycopg looks
        # ``load`` up on the instance, once per result, and calls it for each value.
        self.load = (PSYCOPG_LOADER if in_utc else DjangoUtcLoader)(oid, context).load

    def load(self, data):  # pragma: no cover - the instance's own ``load`` stands in front
        raise AssertionError("UtcTimestamptzLoader.__init__ sets the instance's load")


def install():
    """Put the loader in Django's adapters template for PostgreSQL, which every connection
    made from then on starts from. Only for connections in UTC; True if it was put."""
    done = False
    for alias in connections:
        connection = connections[alias]
        if connection.vendor == "postgresql" and settings.USE_TZ and connection.timezone is UTC:
            get_adapters_template(settings.USE_TZ, connection.timezone).register_loader("timestamptz", UtcTimestamptzLoader)
            done = True
    return done
