#!/usr/bin/env python3
"""One controller, nothing to do: per-tick wall time, process CPU, database time, queries, peak RSS.

    tick.py DRIFTLESS BLUEPRINT_DIR DATABASE_URL SERVER_LOG [TICKS]

Commits the blueprints to a scratch git repository, starts `driftless run` polling it every
second, waits until it has reconciled, then runs VACUUM ANALYZE on the database as the
superuser (what autovacuum does on its own in the minutes after thousands of tables are
created: each ANALYZE is a transaction that ends, which an idle database has none of), then
watches TICKS further ticks with nothing to do on an idle database, then TICKS more while
another session commits a row every 50 ms (in a schema no blueprint names: a busy database,
where some transaction always ends between two ticks), then TICKS more while that session also
creates and drops a temporary table (catalogs written outside the managed schemas).
Queries and database time are read from the server log (`log_min_duration_statement = 0` for
this database only: every parse, bind and execute with its duration on the server; the
writer's own statements are not logged). Prints, for the idle window, the busy one and the one
with catalog writes: wall ms, CPU ms, database ms and queries per tick; then the peak RSS of the
whole run (the first apply included), the peak RSS during the noop ticks alone, and the RSS at
the end, in MB.
"""
import os, re, shutil, subprocess, sys, tempfile, threading, time, urllib.request

driftless, blueprints, url, server_log = sys.argv[1:5]
ticks = int(sys.argv[5]) if len(sys.argv) > 5 else 20
work = tempfile.mkdtemp(prefix="driftless-tick.")
repo = os.path.join(work, "repo")
shutil.copytree(blueprints, os.path.join(repo, "db"))
git = ["git", "-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
subprocess.run(git + ["add", "."], check=True)
subprocess.run(git + ["commit", "-q", "-m", "blueprints"], check=True)
# Logging settings are the superuser's (supabase_admin, as on Supabase; postgres is not one).
admin_url = url.replace("//postgres@", "//supabase_admin@", 1)
subprocess.run(["psql", "-q", "-X", admin_url, "-c", "ALTER DATABASE " + url.rsplit("/", 1)[1] + " SET log_min_duration_statement = 0"], check=True)

port = 20000 + os.getpid() % 20000
proc = subprocess.Popen([driftless, "run", "--repo", "file://" + repo, "--ref", "main", "--path", "db",
                         "--database-url", url, "--listen", f"127.0.0.1:{port}", "--interval", "1s",
                         "--git-cache", os.path.join(work, "cache")],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def metrics():
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    values = {}
    for line in text.splitlines():
        m = re.match(r'^(driftless_tick_duration_seconds_(?:sum|count)|driftless_reconcile_total\{status="(?:ok|noop)"\}) (\S+)$', line)
        if m:
            values[m.group(1)] = float(m.group(2))
    return values

def cpu_seconds():
    fields = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def server_log_totals():
    """Statements run and milliseconds spent on them (parse, bind, execute), so far."""
    count, ms = 0, 0.0
    with open(server_log, errors="replace") as log:
        for line in log:
            m = re.search(r"duration: ([0-9.]+) ms  (statement|parse|bind|execute)", line)
            if m:
                ms += float(m.group(1))
                count += m.group(2) in ("statement", "execute")
    return count, ms

try:
    deadline = time.time() + 600
    while True:
        try:
            m = metrics()
            if m.get('driftless_reconcile_total{status="ok"}', 0) + m.get('driftless_reconcile_total{status="noop"}', 0) >= 1 \
               and m.get("driftless_tick_duration_seconds_count", 0) >= 3:
                break
        except OSError:
            pass
        if time.time() > deadline or proc.poll() is not None:
            sys.exit("the controller did not converge")
        time.sleep(0.5)
    def status(field):
        return int(re.search(field + r":\s+(\d+)", open(f"/proc/{proc.pid}/status").read()).group(1)) // 1024

    def window():
        """Wall ms, CPU ms, database ms and queries per tick over the next `ticks` ticks."""
        start, cpu0, (q0, db0) = metrics(), cpu_seconds(), server_log_totals()
        # Scrape rarely: every /metrics request costs the controller CPU too.
        time.sleep(ticks * 0.95)
        while metrics()["driftless_tick_duration_seconds_count"] < start["driftless_tick_duration_seconds_count"] + ticks:
            time.sleep(1)
        end, cpu1, (q1, db1) = metrics(), cpu_seconds(), server_log_totals()
        n = end["driftless_tick_duration_seconds_count"] - start["driftless_tick_duration_seconds_count"]
        wall = (end["driftless_tick_duration_seconds_sum"] - start["driftless_tick_duration_seconds_sum"]) / n
        # CPU over the window includes the idle second between ticks (HTTP scrapes, timers).
        return f"{wall * 1000:.1f} {(cpu1 - cpu0) / n * 1000:.1f} {(db1 - db0) / n:.1f} {(q1 - q0) / n:.1f}"

    peak = status("VmHWM")
    # Idle means no transaction ends: autovacuum's work on the new catalogs done first.
    subprocess.run(["psql", "-q", "-X", admin_url, "-c", "VACUUM ANALYZE"], check=True)
    # From here the peak is the noop ticks' own (writing 5 to clear_refs resets VmHWM).
    with open(f"/proc/{proc.pid}/clear_refs", "w") as refs:
        refs.write("5")
    idle = window()
    subprocess.run(["psql", "-q", "-X", admin_url, "-c", "CREATE SCHEMA IF NOT EXISTS bench_busy",
                    "-c", "CREATE TABLE IF NOT EXISTS bench_busy.w (id int)"], check=True)
    def busy_window(statement):
        """A window while another session runs `statement` every 50 ms (its statements not logged)."""
        writer = subprocess.Popen(["psql", "-q", "-X", admin_url], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        writer.stdin.write("SET log_min_duration_statement = -1;\n")
        stop = threading.Event()
        def write():
            while not stop.is_set():
                writer.stdin.write(statement + "\n")
                writer.stdin.flush()
                time.sleep(0.05)
        thread = threading.Thread(target=write)
        thread.start()
        try:
            return window()
        finally:
            stop.set()
            thread.join()
            writer.stdin.close()
            writer.wait()
    busy = busy_window("INSERT INTO bench_busy.w VALUES (1);")
    # Catalogs written elsewhere too (a temporary table created and dropped): their activity
    # counters move, and every tick reads the fingerprint exactly (docs/engine.md, Between exact readings).
    ddl = busy_window("INSERT INTO bench_busy.w VALUES (1); CREATE TEMP TABLE bench_scratch (id int); DROP TABLE bench_scratch;")
    print(f"{idle} {busy} {ddl} {peak} {status('VmHWM')} {status('VmRSS')}")
finally:
    proc.terminate()
    proc.wait()
    subprocess.run(["psql", "-q", "-X", admin_url, "-c", "ALTER DATABASE " + url.rsplit("/", 1)[1] + " RESET log_min_duration_statement"])
    shutil.rmtree(work, ignore_errors=True)
