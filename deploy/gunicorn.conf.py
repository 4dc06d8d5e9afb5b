"""gunicorn settings for policyflow: ``gunicorn --config deploy/gunicorn.conf.py``.

Every value can be overridden from the environment (systemd's EnvironmentFile) without editing this file.
"""

import os

wsgi_app = "policyflow.web:create_app()"
bind = os.environ.get("POLICYFLOW_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("POLICYFLOW_WORKERS", "4"))  # about two per core; the app servers are stateless
worker_class = "gthread"  # requests wait on the database; threads keep a worker busy meanwhile
threads = int(os.environ.get("POLICYFLOW_THREADS", "4"))
keepalive = int(os.environ.get("POLICYFLOW_KEEPALIVE", "2"))  # seconds; gthread only (sync workers close each connection)
timeout = 60
graceful_timeout = 30
# Recycle workers now and then, staggered. Not often: a new worker starts with empty page caches (every cache is
# bounded, so memory stays flat without recycling), and at 500 requests a second 5,000 was every ten seconds.
max_requests = 100000
max_requests_jitter = 10000
# No access log: it would hold client addresses, and anonymous commenters are promised that none is
# kept. policyflow writes its own JSON line per request (route, ids, status, duration, staff user id).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("POLICYFLOW_LOG_LEVEL", "info")
# Behind the TLS proxy on the same host: trust its X-Forwarded-* (set POLICYFLOW_PROXY_COUNT=1 too).
forwarded_allow_ips = os.environ.get("POLICYFLOW_FORWARDED_ALLOW_IPS", "127.0.0.1")
