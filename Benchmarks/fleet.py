#!/usr/bin/env python3
"""A fleet on one local cluster (fleet.md, The figures to reach; docs/benchmarks.md).

    fleet.py DRIFTLESS ADMIN_URL TARGETS [TABLES]

Creates TARGETS databases (copies of the cluster's `postgres`, which holds the Supabase
emulation), commits a blueprint set of TABLES tenant tables (Benchmarks/generate.py) to a
scratch git repository, and runs one `driftless run --targets` over them, waves of 1, 10 and
the rest. Prints: the first pass (every target converged), the controller's CPU per noop tick
and its peak RSS, the time a new revision takes to reach every target through the waves; then
two replicas (`--shards 2`) and how they split the targets.
"""
import json, os, re, shutil, subprocess, sys, tempfile, time, urllib.request

driftless, admin_url, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
tables = int(sys.argv[4]) if len(sys.argv) > 4 else 20
here = os.path.dirname(os.path.abspath(__file__))
work = tempfile.mkdtemp(prefix="driftless-fleet.")
base = admin_url.rsplit("/", 1)[0]
token = "bench-token"

def psql(url, *commands):
    args = ["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", url]
    for command in commands:
        args += ["-c", command]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)

# The blueprints, in a git repository the targets read.
repo = os.path.join(work, "repo")
subprocess.run([sys.executable, os.path.join(here, "generate.py"), str(tables), os.path.join(repo, "db")], check=True)
git = ["git", "-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
subprocess.run(git + ["add", "."], check=True)
subprocess.run(git + ["commit", "-q", "-m", "first"], check=True)

started = time.perf_counter()
environment = dict(os.environ)
names = [f"f{i:04d}" for i in range(count)]
for name in names:
    psql(admin_url, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name} TEMPLATE postgres OWNER postgres")
    environment[name.upper() + "_URL"] = f"{base.replace('supabase_admin@', 'postgres@')}/{name}"
print(f"created {count} databases in {time.perf_counter() - started:.1f} s", flush=True)

def wave(index):
    return 1 if index == 0 else (2 if index <= 10 else 3)

targets = os.path.join(work, "targets.yaml")
with open(targets, "w") as handle:
    handle.write(f"version: 1\ndefaults:\n  repo: file://{repo}\n  ref: main\n  path: db\n  interval: 60s\ntargets:\n")
    for index, name in enumerate(names):
        handle.write(f"  - {{name: {name}, database_url_env: {name.upper()}_URL, wave: {wave(index)}}}\n")

def start(ordinal, shards, port):
    env = dict(environment, HOSTNAME=f"driftless-{ordinal}", DRIFTLESS_API_TOKEN=token)
    log = open(os.path.join(work, f"controller-{ordinal}-{shards}.log"), "w")
    return subprocess.Popen([driftless, "run", "--targets", targets, "--shards", str(shards), "--shard", "auto",
                             "--listen", f"127.0.0.1:{port}", "--git-cache", os.path.join(work, f"cache-{ordinal}-{shards}"),
                             "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL, stderr=log)

def get(port, path):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    return urllib.request.urlopen(request, timeout=60).read().decode()

def statuses(port):
    return json.loads(get(port, "/v1/targets"))

def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0

def ticks(port):
    total = 0.0
    for line in get(port, "/metrics").splitlines():
        if line.startswith("driftless_tick_duration_seconds_count{"):
            total += float(line.rsplit(" ", 1)[1])
    return total

def wait_until(predicate, limit, step=2.0):
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        try:
            if predicate():
                return True
        except Exception:
            pass
        time.sleep(step)
    return False

port = 20000 + os.getpid() % 20000
controller = start(0, 1, port)
try:
    wait_until(lambda: statuses(port) is not None, 60, 0.5)
    first = time.perf_counter()
    def converged(revision=None):
        rows = statuses(port)
        return len(rows) == count and all(r["status"].get("last_applied_revision") and
                                          (revision is None or revision in r["status"]["last_applied_revision"]) for r in rows)
    ok = wait_until(converged, 3600)
    print(f"first pass: {'all' if ok else 'NOT all'} {count} targets converged in {time.perf_counter() - first:.1f} s", flush=True)

    # Noop ticks: every target's loop, at its interval, with nothing to do.
    window = 120
    before_cpu, before_ticks = cpu_seconds(controller.pid), ticks(port)
    time.sleep(window)
    after_cpu, after_ticks = cpu_seconds(controller.pid), ticks(port)
    done = after_ticks - before_ticks
    print(f"noop ticks: {done:.0f} in {window} s, controller CPU {after_cpu - before_cpu:.2f} s, "
          f"{(after_cpu - before_cpu) * 1000 / max(done, 1):.2f} ms per tick; peak RSS {peak_rss_mb(controller.pid):.0f} MB", flush=True)

    # A new revision through the waves (1, 10, the rest); the loops see it at their next tick.
    with open(os.path.join(repo, "db", "t0000.yaml"), "a") as handle:
        handle.write("    comment: revision two\n")
    subprocess.run(git + ["commit", "-q", "-am", "second"], check=True)
    commit = subprocess.run(git + ["rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    rollout = time.perf_counter()
    ok = wait_until(lambda: converged(commit), 1800)
    print(f"new revision: {'reached all' if ok else 'did NOT reach all'} {count} targets in waves of 1, 10, {count - 11} "
          f"in {time.perf_counter() - rollout:.1f} s (interval 60 s); peak RSS {peak_rss_mb(controller.pid):.0f} MB", flush=True)
finally:
    controller.terminate()
    controller.wait()

# Two replicas: how they split the targets.
ports = [port + 1, port + 2]
replicas = [start(0, 2, ports[0]), start(1, 2, ports[1])]
try:
    wait_until(lambda: all(statuses(p) is not None for p in ports), 60, 0.5)
    split = [len(statuses(p)) for p in ports]
    print(f"two replicas: {split[0]} and {split[1]} targets ({abs(split[0] - split[1]) * 100 / count:.1f} % apart)", flush=True)
finally:
    for replica in replicas:
        replica.terminate()
        replica.wait()
shutil.rmtree(work, ignore_errors=True)
