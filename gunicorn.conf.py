"""gunicorn settings for Signpost: `gunicorn -c gunicorn.conf.py wsgi:app` (make run uses it).

Workers from the core count, the app (and the threshold files) loaded once before forking,
timeouts, and an access log of method, path, status and time: no query strings, no bodies,
every value escaped so a crafted URL cannot forge a log line. Override with GUNICORN_* below.
"""
import multiprocessing
import os
import time

from gunicorn import glogging

from signpost.hygiene import EscapingFilter, escape

_env = os.environ.get
_shared_limits = _env("RATELIMIT_STORAGE_URI", "memory://").startswith(("redis://", "rediss://"))

bind = _env("GUNICORN_BIND", f"127.0.0.1:{_env('PORT', '8000')}")
# Sign-in throttling counts in memory unless Redis is configured, and memory is per process:
# then one process with threads, so every attempt is counted in one place.
# With Redis, processes of one thread each: Signpost's pages are CPU-bound Python, and threads in
# one process queue for its interpreter lock. benchmarks/http.py measured the same throughput for
# the heaviest journey page at 1 thread as at 4, with the 99th percentile about halved (40-50 ms
# against 85-105 ms at 16 concurrent clients on 2 cores).
workers = int(_env("GUNICORN_WORKERS") or (multiprocessing.cpu_count() * 2 + 1 if _shared_limits else 1))
threads = int(_env("GUNICORN_THREADS") or (1 if _shared_limits else 4))
# Load the app in the master: thresholds and the directory are read once, every worker (and
# every worker restarted after a crash or a kill) has the same version in force.
preload_app = True
timeout = int(_env("GUNICORN_TIMEOUT", "30"))           # a worker silent this long is killed and replaced
graceful_timeout = int(_env("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
max_requests = int(_env("GUNICORN_MAX_REQUESTS", "5000"))  # recycle workers now and then
max_requests_jitter = 500
limit_request_line = 4094
limit_request_fields = 100
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# No shared control socket in the home folder: several instances (and the load tests) can run at once.
control_socket_disable = True
forwarded_allow_ips = _env("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = _env("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = _env("GUNICORN_LOG_LEVEL", "info")
# %(U)s is the path without the query string; %(M)s the time in milliseconds.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


class Logger(glogging.Logger):
    """gunicorn's logger with every access-log value and error-log line escaped."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: escape(value) if isinstance(value, str) else value for key, value in atoms.items()}

    def setup(self, cfg):
        super().setup(cfg)
        for handler in (*self.error_log.handlers, *self.access_log.handlers):
            handler.addFilter(EscapingFilter())


logger_class = Logger


def when_ready(server):
    """Before the first worker forks: compile the preloaded app's templates once, here in the master,
    so every worker (and every one restarted by max_requests or after a crash) starts with them
    rather than compiling them on its first requests. Any Flask app: benchmarks/http.py serves its
    bare Flask baseline with these same settings."""
    env = getattr(server.app.wsgi(), "jinja_env", None) if server.cfg.preload_app else None
    if env is not None:
        from signpost.web.templating import warm
        started = time.perf_counter()
        count = warm(env)
        server.log.info("Compiled %d templates before forking, in %.1f s", count, time.perf_counter() - started)


def post_fork(server, worker):
    """A forked worker opens its own database connections, never the master's."""
    import sys
    if "wsgi" not in sys.modules:  # not Signpost's app (benchmarks/bare_flask.py), or not preloaded
        return
    from signpost.extensions import db
    with sys.modules["wsgi"].app.app_context():
        db.engine.dispose(close=False)
