"""What an idle socket holds (issue #10, docs/PERFORMANCE.md "Issue #10: memory per idle socket").

Django keeps one ``DatabaseWrapper`` per async context: touching ``django.db.connection``
on the event loop inside a consumer made one per socket, about 3 KiB held for as long as
the socket stayed open. The consumer reads the database engine from the settings instead;
the wrappers made while sockets connect stay those of the database threads, however many
sockets there are.
"""

import pytest
from django.db.backends.base.base import BaseDatabaseWrapper

from messaging import conf

pytestmark = pytest.mark.django_db(transaction=True)


async def test_connecting_sockets_makes_no_database_wrapper_per_socket(open_tab, alice, bob, carol, monkeypatch):
    made = []
    original = BaseDatabaseWrapper.__init__

    def counting_init(self, *args, **kwargs):
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(BaseDatabaseWrapper, "__init__", counting_init)
    sockets = 9
    for i in range(sockets):
        tab = await open_tab((alice, bob, carol)[i % 3])
        assert tab.hello is not None
    # At most one per database thread (and the test's own), not one per socket.
    assert len(made) <= conf.get("DB_THREADS") + 2 < sockets, f"{len(made)} DatabaseWrappers for {sockets} sockets"
