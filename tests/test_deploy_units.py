"""deploy/systemd: each Daphne instance serves the listening socket its socket unit holds
(docs/DEPLOY.md §8): the service requires and follows ``chat-daphne@<port>.socket`` and
takes that socket as file descriptor 3, the first one systemd passes. How Daphne serves a
held socket across a restart is tests/test_serve.py's."""

import configparser
import shlex

from tests.servers import REPO_ROOT

UNITS = REPO_ROOT / "deploy" / "systemd"


def unit(name):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(UNITS / name)
    return parser


def test_each_daphne_instance_serves_the_socket_its_socket_unit_holds():
    service, sock = unit("chat-daphne@.service"), unit("chat-daphne@.socket")
    assert sock["Socket"]["ListenStream"] == "127.0.0.1:%i"
    assert int(sock["Socket"]["Backlog"]) >= 2048  # a busy instance's clients, reconnecting at once
    assert "chat-daphne@%i.socket" in service["Unit"]["Requires"].split()
    assert "chat-daphne@%i.socket" in service["Unit"]["After"].split()
    command = shlex.split(service["Service"]["ExecStart"])
    assert command[1:3] == ["-m", "chatsite.serve"]
    assert command[command.index("--fd") + 1] == "3"
    assert not {"--bind", "-b", "--port", "-p"} & set(command)  # the socket is systemd's, not bound again
