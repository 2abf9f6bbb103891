"""Signpost's heaviest journey page against a bare Flask app rendering the same layout, over HTTP.

Both are served by gunicorn with gunicorn.conf.py and the same settings, and loaded by the same
client (wrk, 16 connections; Debian's `wrk` is installed with apt-get if missing and this is root).
Both servers run side by side and are loaded in turn, in short rounds (benchmarks/turns.py: journey
then bare Flask, then bare Flask then journey, ...), so a machine that speeds up or slows down while
it runs changes both alike: each round gives a ratio, and the median round is the figure.
Prints each round, then the medians of each one's requests per second, latency percentiles and
the server's CPU time per request (its workers', read from /proc), the throughput ratio, then last `journey_vs_bare_flask: R` (goal: R at least 0.5, with the journey
page's p99 under 50 ms).
Run: .venv/bin/python benchmarks/http.py [--rounds 5] [--seconds 4] [--workers N] [--threads N]
By default both are served as gunicorn.conf.py serves Signpost in production (with Redis holding the
rate limits): 2 x cores + 1 workers of one thread each.
benchmarks/request_floor.py shows, in process, how much of a journey page is the floor every
signed-in page with the layout pays.
"""
from __future__ import annotations

import sys
from pathlib import Path

# This file's own folder first on sys.path would make `http` this file: take it off first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import http.cookiejar  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "loadtests"))

from benchmarks.turns import in_turn  # noqa: E402

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "benchmark-password-1"
CONNECTIONS = 16
BARE = "benchmarks.bare_flask:app"
# One browser's User-Agent for the sign-in and for wrk: a session is tied to it (Flask-Login's session
# protection), and a different one on every request would rewrite the session cookie each time,
# which no real browser causes.
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) signpost-benchmark"


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update"], check=False, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
        return shutil.which("wrk")
    sys.exit("wrk is needed: apt-get install wrk")


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(module: str, env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), module], cwd=ROOT,
                               env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/page" if module == BARE else url + "/healthz", timeout=1)
            return process, url
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{module} did not start: see {log}")


def signed_in_journey(url: str) -> tuple[str, list[str]]:
    """Sign in, walk the journey's question pages; (cookie header, journey page paths)."""
    from journey_plan import DRAFT_ID, PLAN
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]

    def token(path):
        return CSRF.search(opener.open(url + path).read().decode()).group(1)

    def post(path, data):
        body = urllib.parse.urlencode({"csrf_token": csrf, **data}, doseq=True).encode()
        opener.open(urllib.request.Request(url + path, data=body))

    csrf = token("/sign-in")
    post("/sign-in", {"email": "bench@example.org", "password": PASSWORD})
    csrf = token("/")
    post("/refer/new", {})
    draft_id = DRAFT_ID.search(opener.open(url + "/refer/danger").read().decode()).group(1)
    pages = []
    for path, data in PLAN.items():
        pages.append(path)
        post(path, {**data, "draft_id": draft_id})
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, pages


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def heaviest(url: str, cookie: str, pages: list[str]) -> tuple[str, dict]:
    """The journey page with the slowest median over 15 sequential GETs.

    Only pages that answer 200 themselves: one that redirects (a page this journey skips)
    would be timed with its target here, but wrk, which follows no redirect, loads the redirect.
    """
    medians = {}
    opener = urllib.request.build_opener(NoRedirect)
    for path in pages:
        times = []
        for _ in range(15):
            request = urllib.request.Request(url + path, headers={"Cookie": cookie, "User-Agent": USER_AGENT})
            start = time.perf_counter()
            try:
                with opener.open(request) as response:
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            if status != 200:
                break
            times.append((time.perf_counter() - start) * 1000)
        else:
            medians[path] = statistics.median(times[3:])
    return max(medians, key=medians.get), medians


def server_cpu_seconds(master: subprocess.Popen) -> float:
    """CPU time used so far by a gunicorn server's workers, living and gone: each live worker's own, and
    the master's count of its finished children (workers recycled by max_requests are in it)."""
    tick = os.sysconf("SC_CLK_TCK")

    def stat(pid) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    fields = stat(master.pid)
    total = int(fields[13]) + int(fields[14])  # cutime, cstime: children waited for
    for child in Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split():
        try:
            worker = stat(child)
        except OSError:  # gone between the listing and the read: counted in cutime once waited for
            continue
        total += int(worker[11]) + int(worker[12])  # utime, stime
    return total / tick


def wrk(binary: str, url: str, seconds: int, cookie: str | None = None) -> dict:
    """Load url with wrk, which keeps the cookies the server sets as a browser does (cookie_jar.lua),
    starting with `cookie`; the same script for both apps, so both have the same client."""
    args = [binary, "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--latency", "-H", f"User-Agent: {USER_AGENT}",
            "-s", str(ROOT / "benchmarks" / "cookie_jar.lua"), url, "--", cookie or ""]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label):
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    errors = re.search(r"not 200: (\d+)", out)  # cookie_jar.lua counts them (wrk's own count passes redirects)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "requests": requests, "p50": ms("50%"), "p99": ms("99%"), "not_200": int(errors.group(1)),
            "socket_errors": socket_errors.group(1) if socket_errors else "none"}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each loading both apps in turn")
    parser.add_argument("--seconds", type=int, default=4, help="seconds of load for each app in each round")
    parser.add_argument("--workers", type=int, default=os.cpu_count() * 2 + 1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ceiling", action="store_true",
                        help="serve benchmarks/ceiling.py (three costs of every signed-in page taken away) in "
                             "Signpost's place, to see how far the ratio could rise; prints ceiling_vs_bare_flask")
    args = parser.parse_args(argv)
    binary = ensure_wrk()
    folder = Path(tempfile.mkdtemp(prefix="signpost-http-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "SECRET_KEY": "bench-" + "k" * 40,
           "SIGNPOST_ARGON2_TIME_COST": "1", "SIGNPOST_ARGON2_MEMORY_KIB": "8", "SIGNPOST_ARGON2_PARALLELISM": "1",
           "GUNICORN_WORKERS": str(args.workers), "GUNICORN_THREADS": str(args.threads),
           "GUNICORN_ACCESS_LOG": str(folder / "access.log"), "GUNICORN_LOG_LEVEL": "warning"}
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    from signpost import create_app, store
    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "SECRET_KEY": env["SECRET_KEY"],
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1})
    with app.app_context():
        store.create_user("bench@example.org", "Bench", "referrer", PASSWORD, actor="benchmark")
    servers = []
    rounds = []
    try:
        signpost, signpost_url = serve("benchmarks.ceiling:app" if args.ceiling else "wsgi:app", env,
                                       folder / "signpost.log")
        servers.append(signpost)
        cookie, pages = signed_in_journey(signpost_url)
        page, medians = heaviest(signpost_url, cookie, pages)
        print("journey pages, median of 12 sequential GETs:")
        for path, median in sorted(medians.items(), key=lambda kv: -kv[1]):
            print(f"  {path:<32} {median:7.1f} ms")
        bare, bare_url = serve(BARE, env, folder / "bare.log")
        servers.append(bare)
        # Idle, the other server's workers wait in accept() and take no CPU from the one under load.
        def measured(server, load):
            """wrk's figures, with the server's CPU time per request answered while it ran."""
            def run(seconds):
                before = server_cpu_seconds(server)
                result = load(seconds)
                result["cpu_ms"] = (server_cpu_seconds(server) - before) / max(result["requests"], 1) * 1000
                return result
            return run
        loads = {"journey": measured(signpost, lambda seconds: wrk(binary, signpost_url + page, seconds, cookie)),
                 "bare": measured(bare, lambda seconds: wrk(binary, bare_url + "/page", seconds))}
        for name in ("journey", "bare"):  # warm-up: every worker has served, caches are filled
            loads[name](1)
        print(f"{args.rounds} rounds of {args.seconds} s for each app, in turn:")
        for number, (journey, baseline) in enumerate(in_turn(lambda: loads["journey"](args.seconds),
                                                             lambda: loads["bare"](args.seconds), args.rounds)):
            result = {"journey": journey, "bare": baseline, "ratio": journey["rps"] / baseline["rps"]}
            rounds.append(result)
            print(f"  round {number + 1}: journey {result['journey']['rps']:7.1f} req/s (p99 "
                  f"{result['journey']['p99']:5.1f} ms), bare {result['bare']['rps']:7.1f} req/s (p99 "
                  f"{result['bare']['p99']:5.1f} ms), ratio {result['ratio']:.2f}")
    finally:
        for server in servers:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)

    def median(name, key):
        return statistics.median(r[name][key] for r in rounds)

    print(f"gunicorn.conf.py with {args.workers} workers x {args.threads} threads; wrk, {CONNECTIONS} connections; "
          f"medians of {args.rounds} rounds")
    for label, name in (("bare Flask, same layout (/page)", "bare"), (f"Signpost {page}", "journey")):
        errors = sum(r[name]["not_200"] for r in rounds)
        socket_errors = "; ".join(sorted({r[name]["socket_errors"] for r in rounds} - {"none"})) or "none"
        print(f"{label:<40} {median(name, 'rps'):8.1f} req/s  p50 {median(name, 'p50'):6.1f} ms  "
              f"p99 {median(name, 'p99'):6.1f} ms  server CPU {median(name, 'cpu_ms'):5.2f} ms/request  "
              f"not 200 {errors}  socket errors {socket_errors}")
    # What the ratio is made of: the server's own CPU for one request under this load (gunicorn's work
    # and the app's), against the client's and the kernel's share, which is the same for both apps.
    print(f"server CPU per request, journey / bare Flask: {median('journey', 'cpu_ms') / median('bare', 'cpu_ms'):.1f}")
    ratio = statistics.median(r["ratio"] for r in rounds)
    print(f"throughput ratio (journey / bare Flask, median round): {ratio:.2f}  (goal >= 0.5; journey p99 goal "
          f"< 50 ms: {median('journey', 'p99'):.1f} ms)")
    if args.ceiling:
        print("(Signpost with three costs taken away: benchmarks/ceiling.py; not the service's figure)")
    print(f"{'ceiling' if args.ceiling else 'journey'}_vs_bare_flask: {ratio:.2f}")


if __name__ == "__main__":
    main()
