"""Load and faults, end to end: 50 referrers make N referrals while the front door decides them.

    python loadtests/run.py --database sqlite      [--journeys 10000] [--users 50] [--kills 3]
    python loadtests/run.py --database postgresql  (starts its own server with pg_ctl on another port)

Seeds accounts in a fresh database, serves Signpost with gunicorn.conf.py on 127.0.0.1 (never
anywhere else), drives it with Locust (loadtests/locustfile.py), kills a gunicorn worker with
SIGKILL several times (and, on PostgreSQL, restarts the database once), then prints requests
per second, median and 99th percentile latency and errors, and checks the database: every
acknowledged referral present, exactly N referrals (a submission whose reply a fault lost is
sent again on the same draft), none duplicated, each with its threshold hash, each decision on
the right referral, and the service answering again within 5 seconds of each fault.
Exit status 1 if any check fails.

The front door's decisions are recorded with the store function the front door's pages use
(decide_one below), without their email to the referrer.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

PASSWORD = "load-test-password-1"
# The service's own settings, as an operator's shell may hold them (README: the `flask` commands need
# the production environment loaded). The load test sets its own: inheriting SIGNPOST_ENV=production
# would make its cookies Secure, which Locust never sends back over plain HTTP, and every journey fail.
SERVICE_SETTING_PREFIXES = ("SIGNPOST_", "GUNICORN_", "RATELIMIT_")
SERVICE_SETTINGS = {"DATABASE_URL", "SECRET_KEY", "FORWARDED_ALLOW_IPS", "PORT", "FLASK_APP", "FLASK_DEBUG"}
RECOVERY_LIMIT_S = 5.0
OUTCOMES = ("nfa", "nfa_advice", "early_help", "assessment_s17", "strategy_s47", "already_open")


def clean_environment(env=os.environ) -> tuple[dict, list[str]]:
    """This shell's environment without Signpost's settings, and the names left out."""
    left_out = sorted(name for name in env if name.startswith(SERVICE_SETTING_PREFIXES) or name in SERVICE_SETTINGS)
    return {name: value for name, value in env.items() if name not in left_out}, left_out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def wait_until(predicate, limit: float, step: float = 0.05) -> float | None:
    """Seconds until predicate() held, or None if it did not within the limit."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if predicate():
            return time.monotonic() - start
        time.sleep(step)
    return None


# ---------------------------------------------------------------------------- PostgreSQL of our own

def postgres_path() -> str:
    """Where to look for PostgreSQL's server programs (initdb, pg_ctl): PATH, and if they are not on
    it, /usr/lib/postgresql/<version>/bin, where Debian keeps them (the newest version)."""
    path = os.environ.get("PATH", "")
    if shutil.which("pg_ctl") and shutil.which("initdb"):
        return path
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3])
                      if p.parts[-3].isdigit() else 0)
    return f"{versions[-1].parent}{os.pathsep}{path}" if versions else path


class OwnPostgres:
    """A throwaway PostgreSQL cluster in a temporary folder, on its own port (never the shared one)."""

    def __init__(self, folder: Path, port: int | None = None):
        self.folder = folder
        self.data = folder / "pgdata"
        self.port = port or free_port()
        runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin") or "runuser"
        self.prefix = [] if os.geteuid() != 0 else [runuser, "-u", "postgres", "--"]

    def _run(self, program: str, *args, **kwargs):
        program = shutil.which(program, path=postgres_path()) or program  # by its full path: runuser may reset PATH
        return subprocess.run([*self.prefix, program, *args], check=True, capture_output=True, text=True, **kwargs)

    def start(self) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.prefix:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "signpost", "--auth=trust", "-E", "UTF8")
        self.pg_ctl("start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "signpost", "signpost")
        return f"postgresql+psycopg://signpost@127.0.0.1:{self.port}/signpost"

    def pg_ctl(self, action: str, *extra: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.folder / "pg.log"),
                  "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c max_connections=200",
                  action, *extra)

    def restart(self) -> None:
        self.pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        try:
            self.pg_ctl("stop", "-m", "immediate")
        except (subprocess.CalledProcessError, OSError):  # not running, or never started (no runuser, no pg_ctl):
            pass                                          # the temporary folder is still removed


# ---------------------------------------------------------------------------- the app in this process

def make_app(database_url: str, env: dict):
    from signpost import create_app, settings
    return create_app({**settings.from_environment(env),
                       "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "load-test-" + "k" * 40,
                       "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1,
                       "RATELIMIT_ENABLED": False})


def seed(app, accounts: int):
    from signpost import store
    with app.app_context():
        for n in range(accounts):
            store.create_user(f"load-referrer-{n}@example.org", f"Load referrer {n}", "referrer", PASSWORD,
                              "Fictional Primary School", actor="load test")
        return store.create_user("load-frontdoor@example.org", "Load front door", "front_door", PASSWORD,
                                 "Northmere front door", actor="load test").id


def decide_one(referral, decider) -> None:
    """The front door's decision on one referral, through the store function its pages use
    (signpost.store.frontdoor.record_decision: one transaction, audited, the report facts with it)."""
    from signpost.store import frontdoor
    outcome = OUTCOMES[int(referral.reference.rsplit("-", 1)[1]) % len(OUTCOMES)]
    frontdoor.record_decision(referral, outcome, f"load-test decision for {referral.reference}", supersedes=0,
                              actor=decider)


class Decider(threading.Thread):
    """Front door users deciding whatever has arrived, while the referrers keep referring."""

    def __init__(self, app, decider_id: int):
        super().__init__(daemon=True)
        self.app, self.decider_id = app, decider_id
        self.stopping = threading.Event()
        self.decided = 0
        self.errors = 0

    def pass_once(self) -> int:
        from sqlalchemy import select

        from signpost.extensions import db
        from signpost.models import Decision, Referral, User
        decider = db.session.get(User, self.decider_id)
        waiting = db.session.scalars(select(Referral).where(~Referral.decisions.any()).order_by(Referral.id)
                                     .limit(50)).all()
        for referral in waiting:
            decide_one(referral, decider)
            self.decided += 1
        return len(waiting)

    def run(self):
        with self.app.app_context():
            from signpost.extensions import db
            while not self.stopping.is_set():
                try:
                    if self.pass_once() == 0:
                        time.sleep(0.2)
                except Exception:  # noqa: BLE001 - a database restart; try again
                    self.errors += 1
                    time.sleep(0.5)
                finally:
                    try:
                        db.session.remove()
                    except Exception:  # noqa: BLE001 - the connection died with the server
                        pass


# ---------------------------------------------------------------------------- faults

class Faults(threading.Thread):
    """SIGKILL a gunicorn worker now and then (and restart PostgreSQL once), timing recovery."""

    def __init__(self, master: subprocess.Popen, url: str, kills: int, interval: float, postgres, acks: Path,
                 start_after: int, journeys: int):
        super().__init__(daemon=True)
        self.master, self.url, self.kills, self.interval = master, url, kills, interval
        self.postgres, self.acks, self.start_after, self.journeys = postgres, acks, start_after, journeys
        self.recoveries: list[tuple[str, float | None]] = []
        self.stopping = threading.Event()

    def acknowledged(self) -> int:
        try:
            return sum(1 for _ in self.acks.open())
        except OSError:
            return 0

    def answering(self) -> bool:
        return get(self.url + "/healthz", timeout=1) == 200

    def run(self):
        import psutil
        while self.acknowledged() < self.start_after and not self.stopping.is_set():
            time.sleep(0.2)
        faults = [("kill", n) for n in range(self.kills)]
        if self.postgres is not None:
            faults.insert(len(faults) // 2, ("restart_db", 0))
        # Faults are spread over the load by progress (journeys acknowledged), not by the clock,
        # so every one lands while journeys are still running however fast the machine is;
        # `interval` is only the least time between two.
        step = max(1, (self.journeys - self.start_after) // (len(faults) + 1))
        for number, (kind, _) in enumerate(faults, 1):
            if self.stopping.wait(self.interval if number > 1 else 0):
                return
            while self.acknowledged() < self.start_after + number * step:
                if self.stopping.wait(0.05):
                    return
            started = time.monotonic()
            if kind == "kill":
                workers = psutil.Process(self.master.pid).children()
                if not workers:
                    continue
                victim = random.choice(workers)
                victim.send_signal(signal.SIGKILL)
                label = f"SIGKILL worker {victim.pid}"
            else:
                self.postgres.restart()
                label = "PostgreSQL restarted"
            answering = wait_until(self.answering, 30.0)
            # From the moment the fault began (a database restart takes its own time first).
            self.recoveries.append((label, None if answering is None else time.monotonic() - started))


# ---------------------------------------------------------------------------- results

def locust_summary(prefix: Path) -> dict:
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    total = rows["Aggregated"]
    return {"requests": int(total["Request Count"]), "failures": int(total["Failure Count"]),
            "rps": float(total["Requests/s"]), "median_ms": float(total["Median Response Time"]),
            "p99_ms": float(total["99%"])}


def check_database(app, acknowledged: list[str], target: int) -> list[str]:
    from sqlalchemy import func, select

    from signpost.extensions import db
    from signpost.models import Decision, Referral
    problems = []
    with app.app_context():
        library_hashes = {v.content_hash for v in app.extensions["signpost.library"].versions}
        referrals = db.session.scalars(select(Referral)).all()
        refs = {r.reference: r for r in referrals}
        count = len(referrals)
        drafts = {r.draft_id for r in referrals}
        print(f"referrals in the database: {count} (acknowledged to referrers: {len(acknowledged)}, "
              f"distinct: {len(set(acknowledged))})")
        if len(set(acknowledged)) != len(acknowledged):
            problems.append("a reference was acknowledged twice")
        missing = [a for a in acknowledged if a not in refs]
        if missing:
            problems.append(f"{len(missing)} acknowledged referrals are missing, e.g. {missing[:3]}")
        if len(drafts) != count or len({r.assessment_id for r in referrals}) != count:
            problems.append("two referrals share a draft or an assessment (duplicated)")
        # A submission whose reply was lost is sent again on the same draft (locustfile.py), so
        # faults or not, N journeys make exactly N referrals, every one acknowledged.
        if count != target:
            problems.append(f"expected exactly {target} referrals, found {count}")
        unacknowledged = sorted(set(refs) - set(acknowledged))
        if unacknowledged:
            problems.append(f"{len(unacknowledged)} referrals never acknowledged, e.g. {unacknowledged[:3]}")
        unhashed = [r.reference for r in referrals if r.assessment.threshold_hash not in library_hashes]
        if unhashed:
            problems.append(f"{len(unhashed)} referrals without a known threshold hash")
        decisions = db.session.scalars(select(Decision)).all()
        wrong = [d.id for d in decisions if d.note != f"load-test decision for {d.referral.reference}"]
        per_referral = db.session.execute(select(Decision.referral_id, func.count()).group_by(
            Decision.referral_id).having(func.count() > 1)).all()
        print(f"decisions in the database: {len(decisions)} (on the right referral: {len(decisions) - len(wrong)}; "
              f"referrals decided twice: {len(per_referral)})")
        if wrong:
            problems.append(f"{len(wrong)} decisions on the wrong referral")
        if per_referral:
            problems.append(f"{len(per_referral)} referrals decided more than once")
        if len(decisions) != count:
            problems.append(f"{count - len(decisions)} referrals left undecided")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--journeys", type=int, default=10000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--kills", type=int, default=3, help="gunicorn workers killed with SIGKILL")
    parser.add_argument("--fault-interval", type=float, default=None, help="least seconds between two faults (they are spread over the load by journeys done)")
    parser.add_argument("--time-limit", type=int, default=None, help="stop Locust after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--port", type=int, default=None, help="serve Signpost on this port (default: a free one)")
    parser.add_argument("--postgres-port", type=int, default=None,
                        help="run its own PostgreSQL on this port (default: a free one)")
    args = parser.parse_args(argv)

    clean, left_out = clean_environment()
    if left_out:
        print("Not using the service's settings from this shell:", ", ".join(left_out))
    folder = Path(tempfile.mkdtemp(prefix="signpost-load-"))
    folder.chmod(0o755)
    postgres = None
    server = locust = None
    faults = decider = None
    try:
        if args.database == "postgresql":
            postgres = OwnPostgres(folder / "pg", args.postgres_port)
            database_url = postgres.start()
        else:
            database_url = f"sqlite:///{folder / 'signpost.db'}"
        port = args.port or free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**clean, "DATABASE_URL": database_url, "SECRET_KEY": "load-test-" + "k" * 40,
               "SIGNPOST_ARGON2_TIME_COST": "1", "SIGNPOST_ARGON2_MEMORY_KIB": "8",
               "SIGNPOST_ARGON2_PARALLELISM": "1", "RATELIMIT_STORAGE_URI": "memory://",
               "SIGNPOST_SIGN_IN_LIMIT_PER_ADDRESS": "1000000 per minute",
               "SIGNPOST_MAX_OPEN_DRAFTS": "1000000", "GUNICORN_BIND": f"127.0.0.1:{port}",
               "GUNICORN_WORKERS": str(args.workers), "GUNICORN_THREADS": str(args.threads),
               "GUNICORN_ACCESS_LOG": str(folder / "access.log"), "GUNICORN_MAX_REQUESTS": "0"}
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        app = make_app(database_url, env)
        decider_id = seed(app, args.users)
        server = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                                  env=env, stdout=open(folder / "gunicorn.log", "w"), stderr=subprocess.STDOUT)
        if wait_until(lambda: get(url + "/healthz") == 200, 30) is None:
            print("gunicorn did not start; see", folder / "gunicorn.log")
            return 1
        acks = folder / "acks.txt"
        decider = Decider(app, decider_id)
        decider.start()
        interval = args.fault_interval or max(2.0, args.journeys / 400)
        faults = Faults(server, url, args.kills, interval, postgres, acks, start_after=min(20, args.journeys // 10),
                        journeys=args.journeys)
        faults.start()
        limit = args.time_limit or int(120 + args.journeys * 0.6)
        started = time.monotonic()
        locust = subprocess.run(
            [str(BIN / "locust"), "-f", str(ROOT / "loadtests" / "locustfile.py"), "--headless", "--only-summary",
             "-u", str(args.users), "-r", str(args.spawn_rate), "--host", url, "-t", f"{limit}s",
             "--csv", str(folder / "locust"), "--exit-code-on-error", "0", "--loglevel", "WARNING"],
            cwd=ROOT / "loadtests", capture_output=True, text=True,
            env={**env, "LOAD_JOURNEYS": str(args.journeys), "LOAD_ACKS": str(acks),
                 "LOAD_ACCOUNTS": str(args.users), "LOAD_PASSWORD": PASSWORD})
        elapsed = time.monotonic() - started
        faults.stopping.set()
        faults.join(timeout=40)
        if locust.returncode not in (0, 1):
            print(locust.stdout[-3000:], locust.stderr[-3000:])
        # The front door finishes deciding what is left.
        decider.stopping.set()
        decider.join(timeout=30)
        with app.app_context():
            from signpost.extensions import db
            while decider.pass_once():
                pass
            db.session.remove()

        summary = locust_summary(folder / "locust")
        acknowledged = [line.strip() for line in acks.open()] if acks.exists() else []
        print(f"database: {args.database}; {args.users} referrers; {len(acknowledged)} journeys in {elapsed:.0f} s; "
              f"gunicorn {args.workers} workers x {args.threads} threads")
        print(f"requests: {summary['requests']}  requests_per_second: {summary['rps']:.1f}  "
              f"median_ms: {summary['median_ms']:.0f}  p99_ms: {summary['p99_ms']:.0f}  errors: {summary['failures']}")
        problems = []
        for label, seconds in faults.recoveries:
            print(f"fault: {label}; answering again after {'never' if seconds is None else f'{seconds:.2f} s'}")
            if seconds is None or seconds > RECOVERY_LIMIT_S:
                problems.append(f"{label}: not answering within {RECOVERY_LIMIT_S:.0f} s")
        if len(faults.recoveries) < args.kills + (postgres is not None):
            problems.append(f"only {len(faults.recoveries)} faults were injected before the load ended")
        if len(acknowledged) < args.journeys:
            problems.append(f"only {len(acknowledged)} of {args.journeys} journeys acknowledged")
        problems += check_database(app, acknowledged, args.journeys)
        for problem in problems:
            print("FAIL:", problem)
        print("load_test: " + ("FAILED" if problems else "passed"))
        return 1 if problems else 0
    finally:
        if faults is not None:
            faults.stopping.set()
        if decider is not None:
            decider.stopping.set()
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if postgres is not None:
            postgres.stop()
        if args.keep:
            print("kept", folder)
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
