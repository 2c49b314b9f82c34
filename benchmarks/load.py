"""Load: signed webhooks over loopback to gunicorn, with PostgreSQL, Redis and a Celery worker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/capacity_sms \\
        .venv/bin/python benchmarks/load.py

Runs the app as it runs in production, on a throwaway database: gunicorn (4 gthread workers of
4 threads) and a Celery worker (2 processes) on Redis db 14 (flushed first), with an account,
its Twilio auth token and 5 lines. A second process sends signed inbound webhooks (the mix of
benchmarks/inbound.py from 3,000 numbers; 2% are an earlier request sent again, as a provider
retries) over raw HTTP/1.1 keep-alive connections, open loop: each request is due at its time
whatever the others do, at most BENCH_CONNECTIONS (64) are in flight, and latency counts from
when a request was due, so queueing shows. After a 3 s warm-up (each server thread's first
requests open its connections), the rates BENCH_RATES (25,50,75,100,150,200,300,400 a second)
share BENCH_SECONDS (60) equally, each step ending when its last answer arrives; escalation
stops at the first step not sustained, since higher rates only queue more.

Prints, per step: target and achieved rate, p50 / p99 / max latency, answers by class (2xx, 4xx,
5xx, connection errors or timeouts), the peak of database connections and of lock waits, and
the Celery backlog. The sustained rate is the highest step with at least 95% of its target
achieved, p99 under 1 s and every request answered 200. Then times the worker through what is
left (failing after 60 s without progress) and checks that the stored inbound messages are
exactly the unique MessageSids sent, all processed, every reply handed to the SMS backend, and
no error in the server logs. Exits 1 on a failed check, an answer other than 200, or no
sustained step.
"""

import asyncio
import contextlib
import http.client
import os
import random
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
from django.urls import reverse
from inbound import body
from support import raw_connection, throwaway_database
from twilio.request_validator import RequestValidator

from conversations.models import Direction, Message, MessageStatus
from crm.models import Account, Line

RATES = [
    int(rate) for rate in os.environ.get("BENCH_RATES", "25,50,75,100,150,200,300,400").split(",")
]
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
SENDERS = 3000
LINES = 5
REPEATS = 0.02
TOKEN = "benchmark-token"  # noqa: S105
REDIS_URL = "redis://127.0.0.1:6379/14"
ACHIEVED_SHARE = 0.95
P99_BOUND = 1.0
TIMEOUT = 15.0  # Twilio gives up on a webhook after 15 seconds
STALL_SECONDS = 60.0
WARM_UP = 3
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
# On 2 cores a request is mostly waiting on PostgreSQL and Redis, so threads overlap those waits
# where sync workers would idle; 4 processes spread the Python work past one GIL, and gthread
# keeps connections alive as a provider's client does instead of a TCP handshake per request.
GUNICORN = ["--workers", "4", "--worker-class", "gthread", "--threads", "4", "--keep-alive", "75"]
WORKER = ["--concurrency", "2", "--without-mingle", "--without-gossip", "--without-heartbeat"]
# What the client learns of one request: its HTTP status (or the error's name), and its latency.
Answer = tuple[int | str, float]
WAITS = (
    "SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock') FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def main() -> bool:
    with (
        throwaway_database(),
        tempfile.TemporaryDirectory() as logs,
        contextlib.ExitStack() as stack,
    ):
        return run(Path(logs), stack)


def run(logs: Path, stack: contextlib.ExitStack) -> bool:
    """Start the servers (stopped by `stack`), send the steps, then check what was stored."""
    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    stack.callback(broker.flushdb)
    lines = seed()
    port = free_port()
    env = server_environment()
    server = stack.enter_context(
        running(
            [str(BIN / "gunicorn"), "capacity_sms.wsgi", "--bind", f"127.0.0.1:{port}", *GUNICORN],
            logs / "gunicorn.log",
            env,
        )
    )
    stack.enter_context(
        running(
            [str(BIN / "celery"), "-A", "capacity_sms", "worker", "--loglevel", "WARNING", *WORKER],
            logs / "worker.log",
            env,
        )
    )
    wait_until_serving(port, server, logs / "gunicorn.log")
    traffic = Traffic(port, lines)
    each = SECONDS / len(RATES)
    print(
        f"Load: signed webhooks to gunicorn ({' '.join(GUNICORN)}) and a Celery worker"
        f" ({WORKER[1]} processes), load average {os.getloadavg()[0]:.1f} before; {WARM_UP} s"
        f" warm-up, then {each:.1f} s at each of {RATES} requests/s, at most {CONNECTIONS} in"
        " flight"
    )
    print(
        "   target  achieved  requests  p50 ms  p99 ms  max ms   2xx  4xx  5xx  errors"
        "  db conns  lock waits  backlog"
    )
    steps = []
    with (
        ProcessPoolExecutor(1, mp_context=get_context("spawn")) as client,
        raw_connection() as monitor,
    ):
        monitor.autocommit = True
        # Each gunicorn thread's first requests open its database and broker connections.
        warm_up = send(client, monitor, broker, port, RATES[0], traffic.step(RATES[0] * WARM_UP))
        print(warm_up.line("warm-up"))
        for rate in RATES:
            step = send(client, monitor, broker, port, rate, traffic.step(round(rate * each)))
            steps.append(step)
            print(step.line(f"{rate:,}"))
            if not step.sustained():
                break
        backlog, sent_at = pending(), time.monotonic()
        drained = drain()
        seconds = time.monotonic() - sent_at
        deadlocks, rollbacks = monitor.execute(
            "SELECT deadlocks, xact_rollback FROM pg_stat_database"
            " WHERE datname = current_database()"
        ).fetchone()
        print(
            f"  worker: {backlog:,} messages and replies pending after the last answer, "
            + (f"done in {seconds:.1f} s ({backlog / seconds:,.0f}/s)" if drained else "STALLED")
            + f"; PostgreSQL: {deadlocks} deadlocks, {rollbacks} rollbacks"
        )
    sustained = max(
        (step for step in steps if step.sustained()), key=lambda step: step.rate, default=None
    )
    best = (
        f"{sustained.rate:,} requests/s, p50 {sustained.quantile(0.5) * 1000:.0f} ms,"
        f" p99 {sustained.quantile(0.99) * 1000:.0f} ms, no 5xx"
        if sustained
        else "no step"
    )
    print(
        f"  sustained: {best} (achieved >= {ACHIEVED_SHARE:.0%} of target, p99 <"
        f" {P99_BOUND * 1000:.0f} ms, every answer 200)"
    )
    print(
        f"  sent {sum(len(step.answers) for step in [warm_up, *steps]):,} requests:"
        f" {len(traffic.sids):,} unique MessageSids and {traffic.repeats:,} repeated deliveries"
    )
    results = [check(traffic.sids), *log_errors(logs)]
    for passed, text in results:
        print(f"  {'ok  ' if passed else 'FAIL'} {text}")
    answered = all(status == 200 for step in [warm_up, *steps] for status, _ in step.answers)
    return sustained is not None and answered and all(passed for passed, _ in results)


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


def server_environment() -> dict[str, str]:
    """The servers' settings: this throwaway database, Redis db 14, production defaults else.

    DEBUG, PUBLIC_BASE_URL and TRUST_X_FORWARDED_PROTO are dropped so the app checks signatures
    over the URL the client calls; replies go to the in-memory SMS backend.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DEBUG", "PUBLIC_BASE_URL", "TRUST_X_FORWARDED_PROTO"}
    }
    database = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    env.update(
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
def running(command: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """A server process writing to `log`; stopped on exit (killed if it has not within 20 s),
    so the throwaway database has no connection left when it is dropped."""
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (the venv's own gunicorn and celery)
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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


def send(
    client: ProcessPoolExecutor,
    monitor: psycopg.Connection,
    broker: redis.Redis,
    port: int,
    rate: int,
    payloads: list[bytes],
) -> "Step":
    """One step through the client process; meanwhile, the peak of database connections and
    of those waiting on a lock. The Celery backlog is read when the last answer is in."""
    future = client.submit(send_step, port, rate, payloads)
    peak_connections = peak_waits = 0
    while not wait([future], timeout=0.2).done:
        connections, waits = monitor.execute(WAITS).fetchone()
        peak_connections, peak_waits = max(peak_connections, connections), max(peak_waits, waits)
    answers, seconds = future.result()
    return Step(rate, answers, seconds, peak_connections, peak_waits, broker.llen("celery"))


@dataclass
class Step:
    """What one rate gave: the answers and, sampled meanwhile, the database and the queue."""

    rate: int
    answers: list[Answer]
    seconds: float
    peak_connections: int
    peak_waits: int
    backlog: int

    def sustained(self) -> bool:
        return (
            self.achieved() >= ACHIEVED_SHARE * self.rate
            and self.quantile(0.99) < P99_BOUND
            and all(status == 200 for status, _ in self.answers)
        )

    def achieved(self) -> float:
        return len(self.answers) / self.seconds

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
            f"  {self.backlog:7,}" + (f"  {dict(errors)}" if errors else "")
        )


def pending() -> int:
    """Inbound messages not processed yet, and replies not handed to the SMS backend yet."""
    return Message.objects.filter(status__in=[MessageStatus.RECEIVED, MessageStatus.QUEUED]).count()


def drain() -> bool:
    """Wait until the worker has processed every inbound message and handed over every reply;
    False if it stops making progress."""
    left, progressed = pending(), time.monotonic()
    while left:
        if time.monotonic() - progressed > STALL_SECONDS:
            return False
        time.sleep(0.5)
        if (now_left := pending()) != left:
            left, progressed = now_left, time.monotonic()
    return True


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
    )
    return passed, (
        f"{len(stored):,} inbound stored for {len(sids):,} unique MessageSids,"
        f" {processed:,} processed; replies {dict(replies)}"
    )


def log_errors(logs: Path) -> list[tuple[bool, str]]:
    """Errors gunicorn, Django or Celery logged (tracebacks, ERROR, CRITICAL), first few shown."""
    results = []
    for log in sorted(logs.glob("*.log")):
        lines = [
            line
            for line in log.read_text(errors="replace").splitlines()
            if any(mark in line for mark in ("Traceback", "ERROR", "CRITICAL"))
        ]
        excerpt = "".join(f"\n       {line[:200]}" for line in lines[:5])
        results.append((not lines, f"{log.name}: {len(lines)} error lines{excerpt}"))
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
