"""``python -m chatsite.serve``: Daphne's command line, on uvloop's event loop (chatsite/serve.py)."""

from tests.servers import child_env, run_python


def python(code):
    return run_python(["-c", code], child_env(), timeout=60)


def test_twisted_runs_on_uvloop_once_serve_installed_it():
    result = python(
        "from chatsite import serve\n"
        "assert serve.install()\n"
        "import daphne.server, uvloop\n"
        "from twisted.internet import reactor\n"
        "print(type(daphne.server.twisted_loop).__module__, reactor._asyncioEventloop is daphne.server.twisted_loop)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["uvloop", "True"]


def test_serve_refuses_to_start_after_daphne_made_its_loop():
    result = python("import daphne.server\nfrom chatsite import serve\nserve.main(['--help'])\n")
    assert result.returncode != 0
    assert "must run before daphne.server is imported" in result.stderr


def test_serve_takes_daphnes_command_line():
    result = run_python(["-m", "chatsite.serve", "--help"], child_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--websocket_timeout" in result.stdout and "application" in result.stdout
