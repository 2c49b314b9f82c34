"""Load: signed webhooks over loopback to gunicorn, with PostgreSQL, Redis and Celery workers,
for 1 and 2 web processes times 1 and 2 worker processes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/capacity_sms \\
    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python benchmarks/load.py

Each configuration runs the app as it runs in production, on a throwaway database of its own,
created and migrated afresh so each starts equal: gunicorn with BENCH_WEB_PROCESSES (default
"1,2") gthread processes of 4 threads, and a Celery worker consuming both of the app's queues
(`-Q celery,bulk`: inbound processing and replies are on `celery`) with BENCH_WORKERS (default
"1,2") pool processes, with an account, its Twilio auth token and 5 lines. Worker recycling
(gunicorn.conf.py's max requests) is off: with one process it would stop the only server for a
boot mid-step, timing gunicorn's restart rather than the app. A second process sends signed
inbound webhooks (the mix of benchmarks/inbound.py from 3,000 numbers; 2% are an earlier request
sent again, as a provider retries) over raw HTTP/1.1 keep-alive connections, open loop: each
request is due at its time whatever the others do, at most BENCH_CONNECTIONS (64) are in flight,
and latency counts from when a request was due, so queueing shows. After a 3 s warm-up, the
rates BENCH_RATES (50,100,150,200,250,300 a second) share BENCH_SECONDS (36) equally, each step
ending when its last answer arrives; escalation stops at the first step not sustained (at least
95% of the target achieved, p99 under 1 s, every answer 200), since higher rates only queue more.

Per step it prints target and achieved rate, p50 / p99 / max latency, answers by class, the peak
of database connections and of lock waits, the machine's CPU use, the inbound messages the
worker processed per second and the backlog left for it (messages not processed and replies not
handed to the SMS backend). The worker kept up at a step if it processed at least 95% of what
was stored meanwhile. Then its drain rate alone, with the web tier idle, on at least
BENCH_BACKLOG (1,500) inbound messages: what the steps left when that is enough; else the worker
is paused (SIGSTOP to its process group; only once idle, as a process stopped inside a
transaction would hold its locks and stall the webhooks), BENCH_BACKLOG webhooks are sent at
the sustained rate, and it is resumed. The inbound messages it processes (their replies handed
over) are counted per second until nothing is left. A message whose task was never queued (a
publish that failed) waits, as in production, for the sweep: when the worker makes no progress
for 60 s with messages left, the app's sweep is queued as beat would (at most 3 times), so such
a message is late, not lost; what made the publish fail is still reported from the logs. Then
the checks: the stored inbound messages are exactly the unique MessageSids sent, all processed,
every reply handed over, no error in the server logs (a publish that gave up on a slow broker,
a warning the app logs with its traceback, is noted apart, not failed).

Redis is REDIS_URL (default redis://127.0.0.1:6379/14), and may be shared: nothing but this
run's own keys is written or deleted there. Each configuration gets a key prefix of its own
(capacity-sms-load-<pid>-<random>-<web>x<workers>), given to the servers by a settings module
written to a temporary directory, which imports the app's settings and sets Kombu's
`global_keyprefix` (queues, their bindings, unacknowledged messages, the workers' control
channel) and the cache's KEY_PREFIX (rate limits, the configuration's generation). So another
user of the database, a test run purging the queues `celery` and `bulk` or another benchmark,
neither sees these tasks nor loses its own; afterwards only the keys under the prefix are
deleted (SCAN MATCH, then DEL), never FLUSHDB. This process uses the same cache under the same
prefix (seeding lines retires the configuration's generation, core.config_cache) and queues no
task itself.

Two goals are judged for each configuration and printed as met or NOT MET: webhook p99 under
200 ms at 200 requests/s (that step sustained), and the worker keeping up: it kept up at the
sustained step and drains at least 200 messages a second. A missed goal is reported, not
failed: here the web processes, the workers, PostgreSQL, Redis and this client share the
machine's cores (2 on the reference machine), so beyond that processes add concurrency, not CPU;
the figures are this machine's ceiling, not the design's. Exits 1 only on a correctness failure:
a message lost or stored twice, one not processed or its reply not handed over, an answer other
than 200, a stalled worker, or an error in the logs. The full matrix takes about 9 minutes on
2 cores, most of it the worker draining what the steps left.
"""

import asyncio
import contextlib
import http.client
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import psycopg
import redis
from django.db import connection
from django.db.models import Count, Max, Q
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from inbound import body
from support import raw_connection, throwaway_database
from twilio.request_validator import RequestValidator

from capacity_sms.settings import redis_cache
from conversations.models import Direction, Message, MessageStatus
from conversations.tasks import INBOUND_STALLED_AFTER, OUTBOUND_STALLED_AFTER
from crm.models import Account, Line

WEB_PROCESSES = [int(n) for n in os.environ.get("BENCH_WEB_PROCESSES", "1,2").split(",")]
WORKERS = [int(n) for n in os.environ.get("BENCH_WORKERS", "1,2").split(",")]
RATES = [int(rate) for rate in os.environ.get("BENCH_RATES", "50,100,150,200,250,300").split(",")]
SECONDS = float(os.environ.get("BENCH_SECONDS", "36"))
BACKLOG = int(os.environ.get("BENCH_BACKLOG", "1500"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
# This run's Redis keys start with it; each configuration adds its own part.
KEYS = f"capacity-sms-load-{os.getpid()}"
SENDERS = 3000
LINES = 5
REPEATS = 0.02
TOKEN = "benchmark-token"  # noqa: S105
ACHIEVED_SHARE = 0.95
P99_BOUND = 1.0
GOAL_RATE = 200
GOAL_P99 = 0.2
GOAL_DRAIN = 200.0
TIMEOUT = 15.0  # Twilio gives up on a webhook after 15 seconds
STALL_SECONDS = 60.0
# Messages pending with no task in the broker this long were never queued: they wait for the
# sweep, queued as beat would (every 30 s in production) at most SWEEPS times.
IDLE_SECONDS = 2.0
SWEEPS = 3
WARM_UP = 3
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
# A request is mostly waiting on PostgreSQL and Redis, so threads overlap those waits where sync
# workers would idle, and gthread keeps connections alive as a provider's client does instead of
# a TCP handshake per request. The number of processes is the matrix's.
GUNICORN = ["--worker-class", "gthread", "--threads", "4", "--keep-alive", "75"]
GUNICORN += ["--max-requests", "0"]
WORKER = ["-Q", "celery,bulk", "--without-mingle", "--without-gossip", "--without-heartbeat"]
# The servers' settings: the app's own, with this configuration's Redis key prefix.
SETTINGS = """from capacity_sms.settings import *  # noqa: F403

CACHES["default"]["KEY_PREFIX"] = {prefix!r}
CELERY_BROKER_TRANSPORT_OPTIONS = {{
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "global_keyprefix": {prefix!r} + ":",
}}
"""
STAT = Path("/proc/stat")
# What the client learns of one request: its HTTP status (or the error's name), and its latency.
Answer = tuple[int | str, float]
WAITS = (
    "SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock') FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
PENDING = [MessageStatus.RECEIVED, MessageStatus.QUEUED, MessageStatus.SENDING]
MARKS = ("Traceback", "ERROR", "CRITICAL")
# Lines that continue a log entry's traceback rather than start an entry.
CHAINED = ("Traceback (most recent call last):", "During handling of the above", "The above exc")
# core.queueing's warning when a publish gave up on a slow broker: the message waits, stored,
# for the sweep.
BROKER_GAVE_UP = "Broker unavailable:"


def main() -> bool:
    """Every configuration in turn, then the summary; True if nothing was lost or failed."""
    broker = redis_client()
    keys_before = broker.dbsize()
    cores = os.cpu_count() or 1
    print(
        f"Load matrix: {WEB_PROCESSES} gunicorn processes x {WORKERS} Celery worker processes"
        f" ({' '.join(WORKER[:2])}), each on a fresh database and a Redis key prefix of its own"
        f" in {where(broker)}; {cores} cores, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"  ceiling: gunicorn, the workers, PostgreSQL, Redis and this client share {cores}"
        f" cores; past {cores} processes, more add concurrency, not CPU"
    )
    outcomes = [measure(broker, web, workers) for web in WEB_PROCESSES for workers in WORKERS]
    summary(outcomes, cores)
    ours = sum(1 for _ in broker.scan_iter(match=f"{KEYS}-*"))
    print(
        f"  Redis {where(broker)}: {keys_before:,} keys before, {broker.dbsize():,} after;"
        f" {ours} of this run's keys left, no other key written or deleted by it"
    )
    return all(outcome.correct for outcome in outcomes)


def redis_client() -> redis.Redis:
    """The Redis the servers will use; stops with a clear message when it does not answer."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        raise SystemExit(f"Redis does not answer at {where(client)}: {error}") from error
    return client


def where(client: redis.Redis) -> str:
    """Host, port and database, never the password a URL may hold."""
    kwargs = client.connection_pool.connection_kwargs
    return f"{kwargs.get('host', kwargs.get('path'))}:{kwargs.get('port', '')} db {kwargs['db']}"


def measure(broker: redis.Redis, web: int, workers: int) -> "Outcome":
    """One configuration, on a database of its own dropped afterwards."""
    with (
        throwaway_database(),
        tempfile.TemporaryDirectory() as folder,
        contextlib.ExitStack() as stack,
    ):
        return run(broker, web, workers, Path(folder), stack)


def run(
    broker: redis.Redis, web: int, workers: int, folder: Path, stack: contextlib.ExitStack
) -> "Outcome":
    """Start the servers (stopped by `stack`), send the steps, time the worker alone, check."""
    prefix = own_keys(broker, stack, f"{web}x{workers}")
    # This process's cache is the servers' own, under the prefix: seeding lines retires the
    # configuration's generation there (core.config_cache), never in a key others read.
    cache = {**redis_cache(REDIS_URL), "KEY_PREFIX": prefix}
    stack.enter_context(override_settings(CACHES={"default": cache}))
    lines = seed()
    port = free_port()
    env = server_environment(folder, prefix)
    gunicorn = [str(BIN / "gunicorn"), "capacity_sms.wsgi", "--bind", f"127.0.0.1:{port}"]
    server = stack.enter_context(
        running([*gunicorn, "--workers", str(web), *GUNICORN], folder / "gunicorn.log", env)
    )
    celery = [str(BIN / "celery"), "-A", "capacity_sms", "worker", "--loglevel", "WARNING"]
    worker = stack.enter_context(
        running(
            [*celery, "--concurrency", str(workers), "--hostname", f"{prefix}@%h", *WORKER],
            folder / "worker.log",
            env,
            own_group=True,
        )
    )
    wait_until_serving(port, server, folder / "gunicorn.log")
    traffic = Traffic(port, lines)
    print(
        f"\n{web} gunicorn process(es) ({' '.join(GUNICORN)}) and a Celery worker of {workers}"
        f" process(es); load average {os.getloadavg()[0]:.1f} before; {WARM_UP} s warm-up, then"
        f" {SECONDS / len(RATES):.1f} s at each of {RATES} requests/s, at most {CONNECTIONS} in"
        " flight"
    )
    print(
        "   target  achieved  requests  p50 ms  p99 ms  max ms   2xx  4xx  5xx  errors"
        "  db conns  lock waits  cpu %  worker/s  backlog"
    )
    with (
        ProcessPoolExecutor(1, mp_context=get_context("spawn")) as client,
        raw_connection() as monitor,
    ):
        monitor.autocommit = True
        # Each gunicorn thread's first requests open its database and broker connections.
        warm_up = send(client, monitor, port, RATES[0], traffic.step(RATES[0] * WARM_UP))
        print(warm_up.line("warm-up"))
        steps = escalate(client, monitor, port, traffic)
        outcome = Outcome(web, workers, steps)
        backend = Backend(worker, env, broker, prefix)
        backlog = worker_alone(client, monitor, port, backend, traffic, outcome)
    report(outcome, traffic, [warm_up, *steps, *backlog], folder)
    return outcome


def own_keys(broker: redis.Redis, stack: contextlib.ExitStack, label: str) -> str:
    """A key prefix nobody else uses; its keys are deleted on exit, after the servers stop
    (`stack` closes in reverse), so no worker writes one again."""
    prefix = f"{KEYS}-{secrets.token_hex(4)}-{label}"
    if next(broker.scan_iter(match=f"{prefix}:*"), None) is not None:
        raise SystemExit(f"Redis already holds keys under {prefix}: refusing to share them")
    stack.callback(forget, broker, prefix)
    return prefix


def forget(broker: redis.Redis, prefix: str) -> None:
    """Delete this configuration's keys, and only them: found by prefix, never FLUSHDB."""
    keys = list(broker.scan_iter(match=f"{prefix}:*", count=1000))
    for start in range(0, len(keys), 1000):
        broker.delete(*keys[start : start + 1000])


def seed() -> list[Line]:
    """The account with its auth token and lines; built-in keywords decide, as for most accounts."""
    account = Account.objects.create(name="Load benchmark", twilio_auth_token=TOKEN)
    return [
        Line.objects.create(account=account, number=f"+1415555{n:04d}", name=f"Line {n}")
        for n in range(LINES)
    ]


def free_port() -> int:
    """A port nobody listens on, for gunicorn: runs beside tests or another benchmark."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(folder: Path, prefix: str) -> dict[str, str]:
    """The servers' settings: this throwaway database, Redis under `prefix` (a settings module
    written to `folder`), production defaults else.

    DEBUG, PUBLIC_BASE_URL and TRUST_X_FORWARDED_PROTO are dropped so the app checks signatures
    over the URL the client calls; replies go to the in-memory SMS backend.
    """
    (folder / "load_settings.py").write_text(SETTINGS.format(prefix=prefix))
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DEBUG", "PUBLIC_BASE_URL", "TRUST_X_FORWARDED_PROTO"}
    }
    database = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    env.update(
        DJANGO_SETTINGS_MODULE="load_settings",
        PYTHONPATH=os.pathsep.join([str(folder), str(ROOT)]),
        DATABASE_URL=database._replace(path=f"/{connection.settings_dict['NAME']}").geturl(),
        REDIS_URL=REDIS_URL,
        SECRET_KEY="benchmark-only",  # noqa: S106
        HTTPS="0",
        ALLOWED_HOSTS="127.0.0.1",
        SMS_BACKEND="conversations.backends.locmem.LocmemBackend",
        LOG_LEVEL="WARNING",
    )
    return env


@contextlib.contextmanager
def running(
    command: list[str], log: Path, env: dict[str, str], own_group: bool = False
) -> Iterator[subprocess.Popen]:
    """A server process writing to `log`; stopped on exit (killed if it has not within 20 s),
    so the throwaway database has no connection left when it is dropped. With `own_group` it
    leads a process group of its own, which `paused` stops whole, pool processes included."""
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (the venv's own gunicorn and celery)
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=own_group,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            if own_group:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            process.wait()


@contextlib.contextmanager
def paused(worker: subprocess.Popen) -> Iterator[None]:
    """The worker stopped, main and pool processes, and always resumed on exit: tasks pile up
    in Redis meanwhile, for its drain rate alone."""
    os.killpg(worker.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(worker.pid, signal.SIGCONT)


def wait_until_serving(port: int, server: subprocess.Popen, log: Path) -> None:
    """Until Django answers (405 to a GET on the webhook), so the first step times the app,
    not gunicorn booting."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            probe.request("GET", reverse("twilio-inbound-message"))
            if probe.getresponse().status == 405:
                return
        except OSError:
            pass
        finally:
            probe.close()
        time.sleep(0.2)
    raise SystemExit(f"gunicorn is not serving:\n{log.read_text()[-3000:]}")


class Traffic:
    """What a provider would send: new messages, and now and then one sent again.

    A repeat is the same request, signature included: half of them one of the last 16, likely
    racing their original in flight, the others one of the last 500, often already processed.
    """

    def __init__(self, port: int, lines: list[Line]):
        self.rng = random.Random(11)
        self.host = f"127.0.0.1:{port}"
        self.path = reverse("twilio-inbound-message")
        self.lines = [line.number for line in lines]
        self.senders = [f"+1646{3_000_000 + n:07d}" for n in range(SENDERS)]
        self.sent: list[bytes] = []
        self.sids: set[str] = set()
        self.repeats = 0

    def step(self, count: int) -> list[bytes]:
        return [self.request() for _ in range(count)]

    def request(self) -> bytes:
        if self.sent and self.rng.random() < REPEATS:
            self.repeats += 1
            return self.rng.choice(self.sent[-self.rng.choice((16, 500)) :])
        sid = f"SM{len(self.sids):032x}"
        self.sids.add(sid)
        params = {
            "MessageSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.rng.choice(self.senders),
            "To": self.rng.choice(self.lines),
            "Body": body(self.rng),
            "NumMedia": "0",
        }
        signature = RequestValidator(TOKEN).compute_signature(
            f"http://{self.host}{self.path}", params
        )
        form = urllib.parse.urlencode(params).encode()
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(form)}\r\nX-Twilio-Signature: {signature}\r\n\r\n"
        )
        self.sent.append(head.encode() + form)
        return self.sent[-1]


def send_step(port: int, rate: int, payloads: list[bytes]) -> tuple[list[Answer], float]:
    """In the client process: (status or error name, latency) of each request, and seconds
    from the first being due to the last answer."""
    return asyncio.run(open_loop(port, rate, payloads))


async def open_loop(port: int, rate: int, payloads: list[bytes]) -> tuple[list[Answer], float]:
    """Hand each request to a free connection when it is due, never waiting for answers."""
    loop = asyncio.get_running_loop()
    due: asyncio.Queue = asyncio.Queue()
    answers: list[Answer] = []
    connections = [
        asyncio.create_task(keep_alive(port, due, answers))
        for _ in range(min(CONNECTIONS, len(payloads)))
    ]
    started = loop.time()
    for index, payload in enumerate(payloads):
        at = started + index / rate
        await asyncio.sleep(at - loop.time())
        due.put_nowait((at, payload))
    for _ in connections:
        due.put_nowait(None)
    await asyncio.gather(*connections)
    return answers, loop.time() - started


async def keep_alive(port: int, due: asyncio.Queue, answers: list[Answer]) -> None:
    """One connection: send what is due, in turn, reconnecting when the server closes."""
    loop = asyncio.get_running_loop()
    reader = writer = None
    while (item := await due.get()) is not None:
        at, payload = item
        try:
            async with asyncio.timeout(TIMEOUT):
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(payload)
                status, reusable = await read_answer(reader)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
            status, reusable = type(error).__name__, False
        answers.append((status, loop.time() - at))
        if not reusable and writer is not None:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """The status of one HTTP/1.1 answer, read whole, and whether the connection stays open."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *fields = head.rstrip("\r\n").split("\r\n")
    headers = {}
    for field in fields:
        name, _, value = field.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    if "content-length" not in headers:
        raise ValueError("answer without Content-Length")
    await reader.readexactly(int(headers["content-length"]))
    return int(status_line.split()[1]), headers.get("connection") != "close"


def escalate(
    client: ProcessPoolExecutor, monitor: psycopg.Connection, port: int, traffic: Traffic
) -> list["Step"]:
    """The rates in turn, each printed, up to the first not sustained."""
    steps = []
    for rate in RATES:
        payloads = traffic.step(round(rate * SECONDS / len(RATES)))
        steps.append(send(client, monitor, port, rate, payloads))
        print(steps[-1].line(f"{rate:,}"))
        if not steps[-1].sustained():
            break
    return steps


def send(
    client: ProcessPoolExecutor,
    monitor: psycopg.Connection,
    port: int,
    rate: int,
    payloads: list[bytes],
) -> "Step":
    """One step through the client process; meanwhile, the peak of database connections and
    of those waiting on a lock. The inbound messages stored and processed, the CPU used and the
    worker's backlog are read when the last answer is in."""
    stored, processed = inbound_counts()
    cpu = cpu_times()
    future = client.submit(send_step, port, rate, payloads)
    peak_connections = peak_waits = 0
    while not wait([future], timeout=0.2).done:
        connections, waits = monitor.execute(WAITS).fetchone()
        peak_connections, peak_waits = max(peak_connections, connections), max(peak_waits, waits)
    answers, seconds = future.result()
    busy, total = (after - before for after, before in zip(cpu_times(), cpu, strict=True))
    stored_after, processed_after = inbound_counts()
    return Step(
        rate,
        answers,
        seconds,
        peak_connections,
        peak_waits,
        busy / total if total else float("nan"),
        stored_after - stored,
        processed_after - processed,
        pending(),
    )


def cpu_times() -> tuple[int, int]:
    """CPU time busy and in all, summed over the cores (Linux's /proc/stat; zeros elsewhere),
    to show how near a step came to the machine's ceiling."""
    if not STAT.exists():
        return 0, 0
    user, nice, system, idle, iowait, irq, softirq, steal = map(
        int, STAT.read_text().split("\n", 1)[0].split()[1:9]
    )
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


@dataclass
class Step:
    """What one rate gave: the answers and, measured meanwhile, the database, the CPU and the
    worker."""

    rate: int
    answers: list[Answer]
    seconds: float
    peak_connections: int
    peak_waits: int
    cpu: float
    stored: int
    processed: int
    backlog: int

    def sustained(self) -> bool:
        return (
            self.achieved() >= ACHIEVED_SHARE * self.rate
            and self.quantile(0.99) < P99_BOUND
            and all(status == 200 for status, _ in self.answers)
        )

    def kept_up(self) -> bool:
        """The worker processed (nearly) as many inbound messages as were stored meanwhile."""
        return self.processed >= ACHIEVED_SHARE * self.stored

    def achieved(self) -> float:
        return len(self.answers) / self.seconds

    def worker_rate(self) -> float:
        return self.processed / self.seconds

    def quantile(self, share: float) -> float:
        latencies = sorted(latency for _, latency in self.answers)
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))]

    def line(self, label: str) -> str:
        classes = Counter(
            f"{status // 100}xx" if isinstance(status, int) else "errors"
            for status, _ in self.answers
        )
        errors = Counter(status for status, _ in self.answers if isinstance(status, str))
        return (
            f"  {label:>7}  {self.achieved():8,.1f}  {len(self.answers):8,}"
            f"  {self.quantile(0.5) * 1000:6.0f}  {self.quantile(0.99) * 1000:6.0f}"
            f"  {max(latency for _, latency in self.answers) * 1000:6.0f}"
            f"  {classes['2xx']:4,}  {classes['4xx']:3,}  {classes['5xx']:3,}"
            f"  {classes['errors']:6,}  {self.peak_connections:8}  {self.peak_waits:10}"
            f"  {self.cpu * 100:5.0f}  {self.worker_rate():8,.0f}  {self.backlog:7,}"
            + (f"  {dict(errors)}" if errors else "")
        )


@dataclass
class Outcome:
    """One configuration's figures, for its goals and the summary."""

    web: int
    workers: int
    steps: list[Step]
    drain_rate: float | None = None
    correct: bool = False

    def sustained(self) -> Step | None:
        return max(
            (step for step in self.steps if step.sustained()),
            key=lambda step: step.rate,
            default=None,
        )

    def latency_goal(self) -> tuple[bool, str]:
        """p99 under GOAL_P99 at GOAL_RATE requests/s, that step sustained."""
        step = next((step for step in self.steps if step.rate == GOAL_RATE), None)
        if step is None:
            return False, (
                f"{GOAL_RATE}/s not tried: not in BENCH_RATES"
                if GOAL_RATE not in RATES
                else f"{GOAL_RATE}/s not tried: {self.steps[-1].rate}/s was not sustained"
            )
        met = step.sustained() and step.quantile(0.99) < GOAL_P99
        return met, (
            f"p99 {step.quantile(0.99) * 1000:.0f} ms, p50 {step.quantile(0.5) * 1000:.0f} ms,"
            f" {step.achieved():.0f}/s achieved"
        )

    def worker_goal(self) -> tuple[bool, str]:
        """Kept up at GOAL_RATE requests/s (the goal's traffic, as for latency; a faster web
        tier on the same cores must not make the worker's goal harder), and drains at least
        GOAL_DRAIN messages a second alone. The highest sustained step is reported beside."""
        at_goal = next((step for step in self.steps if step.rate == GOAL_RATE), None)
        kept = at_goal is not None and at_goal.sustained() and at_goal.kept_up()
        drains = self.drain_rate is not None and self.drain_rate >= GOAL_DRAIN
        drained = (
            f"drains {self.drain_rate:.0f} msg/s alone"
            if self.drain_rate is not None
            else "did not drain"
        )
        best = self.sustained()
        shown = [step for step in (at_goal, best if best is not at_goal else None) if step]
        return kept and drains, "; ".join(
            [drained]
            + ([] if at_goal else [f"{GOAL_RATE}/s not tried"])
            + [
                f"at {step.rate}/s it processed {step.worker_rate():.0f}/s of"
                f" {step.stored / step.seconds:.0f}/s stored"
                f" ({'kept up' if step.kept_up() else 'fell behind'})"
                for step in shown
            ]
        )


def worker_alone(
    client: ProcessPoolExecutor,
    monitor: psycopg.Connection,
    port: int,
    backend: "Backend",
    traffic: Traffic,
    outcome: "Outcome",
) -> list[Step]:
    """Time the worker on at least BACKLOG messages with the web tier idle: what the steps left
    if that is enough, else a backlog sent at the sustained rate while it is paused (idle, so it
    holds no lock). Sets the outcome's drain rate; returns the backlog's step, if one was sent."""
    left = timed_drain(monitor, backend, "after the last answer")
    if left is None or left[0] >= BACKLOG:
        outcome.drain_rate = left[0] / left[1] if left else None
        return []
    best = outcome.sustained()
    with paused(backend.worker):
        backlog = send(
            client, monitor, port, best.rate if best else RATES[0], traffic.step(BACKLOG)
        )
    print(backlog.line("backlog") + "  (worker paused)")
    left = timed_drain(monitor, backend, "sent while it was paused")
    outcome.drain_rate = left[0] / left[1] if left else None
    return [backlog]


@dataclass
class Backend:
    """What draining needs of a running configuration: its worker, the servers' environment
    (to queue the sweep as they would) and its Redis keys."""

    worker: subprocess.Popen
    env: dict[str, str]
    broker: redis.Redis
    prefix: str

    def queued(self) -> int:
        """Tasks in the broker: waiting in either queue, or taken and not acknowledged yet (a
        task is acknowledged after it ran, and what it queues is published before that)."""
        with self.broker.pipeline() as pipe:
            pipe.llen(f"{self.prefix}:celery").llen(f"{self.prefix}:bulk")
            pipe.hlen(f"{self.prefix}:unacked")
            return sum(pipe.execute())

    def sweep(self) -> None:
        """Queue the app's sweep as beat does, with the servers' settings (so under this
        prefix), once it would take every message left: it queues again inbound messages
        waiting over a minute and replies over two."""
        ages = {
            Direction.INBOUND: INBOUND_STALLED_AFTER,
            Direction.OUTBOUND: OUTBOUND_STALLED_AFTER,
        }
        newest = Message.objects.filter(status__in=PENDING).values("direction")
        due = max(
            (
                row["newest"] + ages[row["direction"]]
                for row in newest.annotate(newest=Max("created_at"))
            ),
            default=timezone.now(),
        )
        time.sleep(max(0.0, (due - timezone.now()).total_seconds()) + 1)
        task = "conversations.tasks.sweep_pending_messages"
        subprocess.run(  # noqa: S603 (the venv's own celery)
            [str(BIN / "celery"), "-A", "capacity_sms", "call", task],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )


def timed_drain(
    monitor: psycopg.Connection, backend: Backend, what: str
) -> tuple[int, float] | None:
    """Wait for the worker to finish what is pending, printing how long it took: the inbound
    messages it processed (their replies handed over too) and the seconds, to its last progress;
    None if it never finishes.

    Messages left with no task in the broker were never queued (a publish that failed) and
    wait for the sweep, as in production: it is queued, at most SWEEPS times, and the drain
    goes on; the rate counts only what came before.
    """
    backlog, began, (_, processed) = pending(), time.monotonic(), inbound_counts()
    drained, last = drain(backend)
    done, seconds = inbound_counts()[1] - processed, last - began
    unqueued, sweeps = pending(), 0
    while not drained and sweeps < SWEEPS:
        backend.sweep()
        sweeps += 1
        drained, _ = drain(backend)
    deadlocks, rollbacks = monitor.execute(
        "SELECT deadlocks, xact_rollback FROM pg_stat_database WHERE datname = current_database()"
    ).fetchone()
    print(
        f"  worker: {backlog:,} messages and replies pending {what}, {done:,} inbound done in"
        f" {seconds:.1f} s ({done / seconds if seconds else 0:,.0f}/s)"
        + (
            f"; {unqueued:,} left unqueued, "
            + (f"done after {sweeps} sweep(s)" if drained else f"STALLED after {sweeps} sweeps")
            if sweeps
            else ""
        )
        + f"; PostgreSQL: {deadlocks} deadlocks, {rollbacks} rollbacks"
    )
    return (done, seconds) if drained else None


def report(outcome: Outcome, traffic: Traffic, steps: list[Step], logs: Path) -> None:
    """Print the configuration's sustained rate, checks and goals; set whether it is correct."""
    best = outcome.sustained()
    print(
        "  sustained: "
        + (
            f"{best.rate:,} requests/s, p50 {best.quantile(0.5) * 1000:.0f} ms,"
            f" p99 {best.quantile(0.99) * 1000:.0f} ms"
            + (" (the highest rate tried: the ceiling is higher)" if best.rate == RATES[-1] else "")
            if best
            else "no step"
        )
        + f" (achieved >= {ACHIEVED_SHARE:.0%} of target, p99 < {P99_BOUND * 1000:.0f} ms,"
        " every answer 200)"
    )
    print(
        f"  sent {sum(len(step.answers) for step in steps):,} requests:"
        f" {len(traffic.sids):,} unique MessageSids and {traffic.repeats:,} repeated deliveries"
    )
    answered = all(status == 200 for step in steps for status, _ in step.answers)
    results = [
        (answered, "every answer 200"),
        (outcome.drain_rate is not None, "the worker drained everything"),
        check(traffic.sids),
        *log_errors(logs),
    ]
    for passed, text in results:
        print(f"  {'note' if passed is None else 'ok  ' if passed else 'FAIL'} {text}")
    outcome.correct = all(passed is not False for passed, _ in results)
    for name, (met, text) in goals(outcome).items():
        print(f"  goal {name}: {'met' if met else 'NOT MET'} ({text})")


def goals(outcome: Outcome) -> dict[str, tuple[bool, str]]:
    return {
        f"p99 < {GOAL_P99 * 1000:.0f} ms at {GOAL_RATE}/s": outcome.latency_goal(),
        f"worker keeps up, >= {GOAL_DRAIN:.0f} msg/s": outcome.worker_goal(),
    }


def summary(outcomes: list[Outcome], cores: int) -> None:
    """The matrix side by side, each configuration's goals, and the machine's ceiling."""
    print(
        f"\nSummary ({cores} cores shared by every process; figures are this machine's ceiling;"
        f" + marks the highest rate tried, {RATES[-1]}/s, sustained)"
    )
    print(
        "  web x workers  sustained/s  p50 ms  p99 ms  worker/s there  drain msg/s"
        f"  p99 at {GOAL_RATE}/s  worker/stored there  checks"
    )
    for outcome in outcomes:
        best = outcome.sustained()
        at_goal = next((step for step in outcome.steps if step.rate == GOAL_RATE), None)
        print(
            f"  {outcome.web:>3} x {outcome.workers:<7}"
            + (
                f"  {f'{best.rate:,}' + ('+' if best.rate == RATES[-1] else ''):>11}"
                f"  {best.quantile(0.5) * 1000:6.0f}"
                f"  {best.quantile(0.99) * 1000:6.0f}  {best.worker_rate():14,.0f}"
                if best
                else f"  {'none':>11}  {'-':>6}  {'-':>6}  {'-':>14}"
            )
            + (
                f"  {outcome.drain_rate:11,.0f}"
                if outcome.drain_rate is not None
                else f"  {'stalled':>11}"
            )
            + (
                f"  {at_goal.quantile(0.99) * 1000:8.0f} ms"
                f"  {f'{at_goal.worker_rate():.0f} / {at_goal.stored / at_goal.seconds:.0f}':>19}"
                if at_goal
                else f"  {'not tried':>11}  {'-':>19}"
            )
            + f"  {'ok' if outcome.correct else 'FAIL'}"
        )
    for outcome in outcomes:
        verdicts = "; ".join(
            f"{name}: {'met' if met else 'NOT MET'}" for name, (met, _) in goals(outcome).items()
        )
        print(f"  {outcome.web} x {outcome.workers}: {verdicts}")


def pending() -> int:
    """Inbound messages not processed yet, and replies not handed to the SMS backend yet."""
    return Message.objects.filter(status__in=PENDING).count()


def inbound_counts() -> tuple[int, int]:
    """Inbound messages stored, and of them processed."""
    counts = Message.objects.filter(direction=Direction.INBOUND).aggregate(
        stored=Count("id"), processed=Count("id", filter=Q(status=MessageStatus.PROCESSED))
    )
    return counts["stored"], counts["processed"]


def drain(backend: Backend) -> tuple[bool, float]:
    """Wait until the worker has processed every inbound message and handed over every reply:
    whether it did, and when it last made progress (polled often, as the drain rate is timed by
    it). Gives up when the broker has held no task for IDLE_SECONDS (what is left was never
    queued) or nothing moved for STALL_SECONDS."""
    left, progressed, idle_since = pending(), time.monotonic(), None
    while left:
        now = time.monotonic()
        idle_since = (idle_since or now) if not backend.queued() else None
        if now - progressed > STALL_SECONDS or (idle_since and now - idle_since > IDLE_SECONDS):
            return False, progressed
        time.sleep(0.1)
        if (now_left := pending()) != left:
            left, progressed = now_left, time.monotonic()
    return True, progressed


def check(sids: set[str]) -> tuple[bool, str]:
    """Stored once per MessageSid (repeats add nothing), each processed, each reply handed over."""
    inbound = Message.objects.filter(direction=Direction.INBOUND)
    stored = list(inbound.values_list("provider_message_id", flat=True))
    processed = inbound.filter(status=MessageStatus.PROCESSED).count()
    replies = Counter(
        Message.objects.filter(direction=Direction.OUTBOUND).values_list("status", flat=True)
    )
    passed = (
        len(stored) == len(sids)
        and set(stored) == sids
        and processed == len(stored)
        and not replies[MessageStatus.QUEUED]
        and not replies[MessageStatus.SENDING]
    )
    return passed, (
        f"{len(stored):,} inbound stored for {len(sids):,} unique MessageSids,"
        f" {processed:,} processed; replies {dict(replies)}"
    )


def log_errors(logs: Path) -> list[tuple[bool | None, str]]:
    """Errors gunicorn, Django or Celery logged (tracebacks, ERROR, CRITICAL), the first few
    shown by their first line and exception. A publish that gave up on a slow broker (a warning
    with its traceback) is counted apart and noted, not failed: its request was answered 200
    and its message, stored, waited for the sweep, as the app is designed to."""
    results: list[tuple[bool | None, str]] = []
    for log in sorted(logs.glob("*.log")):
        entries = [
            entry
            for entry in log_entries(log.read_text(errors="replace"))
            if any(mark in line for line in entry for mark in MARKS)
        ]
        gave_up = [entry for entry in entries if entry[0].startswith(BROKER_GAVE_UP)]
        errors = [entry for entry in entries if not entry[0].startswith(BROKER_GAVE_UP)]
        excerpt = "".join(f"\n       {gist(entry)}" for entry in errors[:5])
        results.append((not errors, f"{log.name}: {len(errors)} errors{excerpt}"))
        if gave_up:
            results.append(
                (
                    None,
                    f"{log.name}: {len(gave_up)} publishes gave up on a slow broker, their"
                    f" messages left for the sweep\n       {gist(gave_up[0])}",
                )
            )
    return results


def log_entries(text: str) -> list[list[str]]:
    """The log's entries: a line, with the traceback (chained ones too) that follows it."""
    entries: list[list[str]] = []
    in_traceback = False
    for line in text.splitlines():
        if entries and (
            in_traceback or not line.strip() or line[:1].isspace() or line.startswith(CHAINED)
        ):
            entries[-1].append(line)
        else:
            entries.append([line])
        if line.startswith(CHAINED[0]):
            in_traceback = True
        elif in_traceback and line.strip() and not line[:1].isspace():
            in_traceback = False  # the exception's line ends the traceback
    return entries


def gist(entry: list[str]) -> str:
    """An entry's first line and, after a traceback, its exception."""
    last = next(line for line in reversed(entry) if line.strip())
    return entry[0][:150] + (f" ... {last[:150]}" if last is not entry[0] else "")


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
