"""The real connector service under gunicorn, for tests and benchmarks (not a test module).

``gunicorn_service(settings)`` starts ``python -m gunicorn --config
connector_service/gunicorn.conf.py`` on 127.0.0.1 with a free port and the ``ODC_*`` variables
of ``settings`` (e.g. a ``tests/service_env.py`` setup), waits until ``/healthz`` answers, yields
the base URL and stops gunicorn with SIGTERM (SIGKILL if it does not stop in time). gunicorn's
stderr goes to a file, and is attached to any failure: a service that does not start, an
exception raised inside the ``with`` block, or an unclean exit. Its control socket (gunicorn 27)
lives in the same temporary folder, not in the user's home.

Why a subprocess and not the Flask test client: only gunicorn has several worker *processes*,
so only it shows whether what must be shared across them (the rate limit) is shared.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests
from gunicorn.config import KNOWN_SETTINGS
from pydantic import SecretStr

from connector_service.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[1]
_GUNICORN_SETTINGS = {setting.name for setting in KNOWN_SETTINGS}
CONFIG = ROOT / "connector_service" / "gunicorn.conf.py"
STDERR_TAIL = 6000  # characters of gunicorn's stderr shown with a failure
_BIND_RETRIES = 3  # a free port can be taken between choosing it and gunicorn binding it


class ServiceFailed(RuntimeError):
    """gunicorn did not start, or did not stop cleanly; the message ends with its stderr."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_env(settings: ServiceSettings) -> dict[str, str]:
    """``settings`` as the ``ODC_*`` variables ``ServiceSettings()`` reads back (secrets
    revealed: they go to a child process's environment, never to output)."""
    out: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, list | dict):
            value = json.dumps(value)
        out[f"ODC_{name.upper()}"] = str(value)
    return out


def gunicorn_argv(port: int, workers: int, threads: int | None, extra: Sequence[str] = (),
                  control_socket: Path | None = None) -> list[str]:
    """The command line: the service's own config, overridden by flags (flags win);
    ``threads=None`` keeps the config's (``ODC_SERVICE_THREADS``, 4 by default).

    gunicorn 27 also opens a control socket, by default ``~/.gunicorn/gunicorn.ctl`` for every
    server of the user; ``control_socket`` puts it elsewhere (ignored by older gunicorn).
    """
    threading = ["--threads", str(threads)] if threads is not None else []
    control = (["--control-socket", str(control_socket)]
               if control_socket is not None and "control_socket" in _GUNICORN_SETTINGS else [])
    return [sys.executable, "-m", "gunicorn", "--config", str(CONFIG),
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), *threading, *control,
            *extra]


@contextmanager
def gunicorn_service(settings: ServiceSettings, *, workers: int = 2, threads: int | None = 4,
                     extra_args: Sequence[str] = (), extra_env: Mapping[str, str] | None = None,
                     startup_timeout: float = 60.0, stop_timeout: float = 30.0,
                     ) -> Iterator[str]:
    """Run the service under gunicorn and yield its base URL (``http://127.0.0.1:<port>``).

    ``extra_args`` go after the config flags (e.g. ``--access-logfile``), ``extra_env`` over
    the settings' variables. Any ``ODC_*`` variable of this process is left out, so the service
    sees exactly ``settings``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ODC_")}
    env.update(settings_env(settings))
    env.update(extra_env or {})
    with tempfile.TemporaryDirectory(prefix="odc-gunicorn-") as tmp:
        stderr_path = Path(tmp) / "stderr.log"
        proc, url = _start(env, stderr_path, workers, threads, extra_args, startup_timeout)
        try:
            yield url
        except BaseException as exc:
            _stop(proc, stop_timeout)
            exc.add_note(f"gunicorn's stderr:\n{_tail(stderr_path)}")
            raise
        code = _stop(proc, stop_timeout)
        if code != 0:
            raise ServiceFailed(f"gunicorn exited with {code} after SIGTERM\n"
                                f"{_tail(stderr_path)}")


def _start(env: dict[str, str], stderr_path: Path, workers: int, threads: int | None,
           extra: Sequence[str], timeout: float) -> tuple[subprocess.Popen[bytes], str]:
    """Start gunicorn (on another port if the chosen one was taken meanwhile); wait for it."""
    for attempt in range(_BIND_RETRIES):
        port = free_port()
        with stderr_path.open("wb") as stderr:
            argv = gunicorn_argv(port, workers, threads, extra,
                                 stderr_path.with_name("gunicorn.ctl"))
            proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=stderr)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(proc, url, timeout)
        except ServiceFailed as exc:
            _stop(proc, 10.0)
            in_use = "in use" in _tail(stderr_path)
            if not in_use or attempt == _BIND_RETRIES - 1:
                raise ServiceFailed(f"{exc}\ngunicorn's stderr:\n{_tail(stderr_path)}") from None
            continue
        return proc, url
    raise AssertionError("unreachable")


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, timeout: float) -> None:
    """Return once ``/healthz`` answers 200; ServiceFailed if gunicorn exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceFailed(f"gunicorn exited with {proc.returncode} before answering")
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise ServiceFailed(f"/healthz did not answer within {timeout:.0f} s")


def _stop(proc: subprocess.Popen[bytes], timeout: float) -> int:
    """SIGTERM (gunicorn's graceful stop), then SIGKILL after ``timeout``; the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return int(proc.returncode)


def _tail(path: Path) -> str:
    """The end of gunicorn's stderr (it may be long at loglevel info)."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no stderr file)"
    return text[-STDERR_TAIL:] if text else "(empty)"


def worker_pids(url: str, admin_token: str, expected: int, timeout: float = 30.0) -> set[int]:
    """The pids of ``expected`` workers, each seen answering ``/v1/admin/stats``.

    Every request goes on a new connection (``Connection: close``) so whichever worker accepts
    it answers; it returns once ``expected`` distinct workers have, i.e. all have loaded the
    app. ServiceFailed after ``timeout`` with the pids seen so far.
    """
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {admin_token}", "Connection": "close"}
    while time.monotonic() < deadline:
        response = requests.get(f"{url}/v1/admin/stats", headers=headers, timeout=10)
        response.raise_for_status()
        seen.add(int(response.json()["worker"]))
        if len(seen) >= expected:
            return seen
        time.sleep(0.01)
    raise ServiceFailed(f"only workers {sorted(seen)} answered within {timeout:.0f} s; "
                        f"expected {expected}")


def worker_stats(url: str, admin_token: str, pids: set[int], timeout: float = 30.0,
                 ) -> dict[int, dict[str, int]]:
    """Each of ``pids``' cache counters from ``/v1/admin/stats`` (new connection each time,
    until every worker has answered once)."""
    stats: dict[int, dict[str, int]] = {}
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {admin_token}", "Connection": "close"}
    while set(stats) < pids:
        if time.monotonic() > deadline:
            raise ServiceFailed(f"workers {sorted(pids - set(stats))} did not answer "
                                f"within {timeout:.0f} s")
        response = requests.get(f"{url}/v1/admin/stats", headers=headers, timeout=10)
        response.raise_for_status()
        body = response.json()
        stats.setdefault(int(body["worker"]), body["cache"])
        time.sleep(0.01)
    return stats
