"""``ondigital-connect serve``: the connector service under gunicorn (never Flask's dev server).

The library does not import the service: this command only locates its gunicorn settings and
hands the process over to gunicorn.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import click

from ondigital_connect.errors import ConfigError


def gunicorn_argv(bind: str | None, workers: int | None, threads: int | None) -> list[str]:
    """The gunicorn command line for the service's ``gunicorn.conf.py``."""
    spec = importlib.util.find_spec("connector_service")
    if spec is None or spec.origin is None or importlib.util.find_spec("gunicorn") is None:
        raise ConfigError("the service is not installed: pip install 'ondigital-connect[service]'")
    conf = Path(spec.origin).with_name("gunicorn.conf.py")
    argv = [sys.executable, "-m", "gunicorn", "--config", str(conf)]
    if bind:
        argv += ["--bind", bind]
    if workers:
        argv += ["--workers", str(workers)]
    if threads:
        argv += ["--threads", str(threads)]
    return argv


@click.command()
@click.option("--bind", help="host:port (default 127.0.0.1:8080 or ODC_SERVICE_BIND).")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default: cores).")
@click.option("--threads", type=click.IntRange(1, 64), help="Threads per worker (default 4).")
def serve(bind: str | None, workers: int | None, threads: int | None) -> None:
    """Run the Looker Studio connector service under gunicorn (settings from ODC_*)."""
    argv = gunicorn_argv(bind, workers, threads)
    os.execv(argv[0], argv)  # noqa: S606 - our own interpreter running gunicorn
