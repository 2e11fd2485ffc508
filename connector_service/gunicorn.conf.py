"""gunicorn settings for the connector service (``ondigital-connect serve`` uses this file).

Workers are processes (one per core by default) and each runs a few threads: a request spends
most of its time in DuckDB or waiting on I/O, both of which release the GIL. Everything can be
overridden with ``ODC_SERVICE_*`` variables or gunicorn's own command-line flags.
"""

import multiprocessing
import os

bind = os.environ.get("ODC_SERVICE_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("ODC_SERVICE_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("ODC_SERVICE_THREADS", 4))
worker_class = "gthread"
timeout = int(os.environ.get("ODC_SERVICE_TIMEOUT", 60))
graceful_timeout = 20
keepalive = 5
# Looker Studio's requests are POST bodies; the line and headers stay small.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
accesslog = None  # the app writes its own structured access log (without credentials)
errorlog = "-"
loglevel = os.environ.get("ODC_SERVICE_LOGLEVEL", "info")
wsgi_app = "connector_service.wsgi:app"
# gunicorn 25.1+ opens a control socket at ~/.gunicorn/gunicorn.ctl, shared by every server of
# the user; the service is managed by its process supervisor instead.
control_socket_disable = True
