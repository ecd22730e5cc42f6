"""Renders and lints charts/driftless with Helm's own engine (helm-python-sdk), then validates
every rendered manifest with kubernetes-validate --strict. Prints a JSON report; exits 1 on any
problem. Usage: check_chart.py CHART_DIR VALUES_FILE [VALUES_FILE ...] (an empty string: defaults)."""
import json, os, subprocess, sys, tempfile
import helm_python as helm
import yaml

chart_dir, value_files = sys.argv[1], sys.argv[2:]
report, failed = {}, False
for values_file in value_files:
    values = yaml.safe_load(open(values_file)) if values_file else None
    name = os.path.basename(values_file) if values_file else "defaults"
    entry = {}
    lint = helm.lint(chart_dir, values, strict=True)
    entry["lint_errors"] = lint.get("errors") or []
    entry["lint_messages"] = [m for m in lint.get("messages") or [] if m.get("severity", 0) >= 2]
    chart = helm.Chart.load(chart_dir)
    chart.validate_schema(values)
    manifests = chart.render(values, name="driftless", namespace="platform", is_install=True)
    kinds, files = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for path, text in sorted(manifests.items()):
            if path.endswith("NOTES.txt"):
                entry["notes"] = text
                continue
            if not text.strip():
                continue
            for document in yaml.safe_load_all(text):
                if document:
                    kinds.append(document["kind"])
                    if document["kind"] == "Ingress":
                        entry["ingress_paths"] = [p["path"] for rule in document["spec"]["rules"] for p in rule["http"]["paths"]]
                    if document["kind"] == "Service":
                        entry["session_affinity"] = document["spec"].get("sessionAffinity", "None")
                    if document["kind"] in ("Deployment", "StatefulSet"):
                        entry["args"] = document["spec"]["template"]["spec"]["containers"][0].get("args", [])
                        entry["env"] = [e["name"] for e in document["spec"]["template"]["spec"]["containers"][0].get("env", [])]
            target = os.path.join(scratch, path.replace("/", "_"))
            with open(target, "w") as handle:
                handle.write(text)
            files.append(target)
        # ServiceMonitor is a CRD that kubernetes-validate has no schema for: validated by its own check below.
        core = [f for f in files if "servicemonitor" not in f]
        result = subprocess.run(["kubernetes-validate", "--strict", "--quiet", *core], capture_output=True, text=True)
        entry["kubernetes_validate"] = {"exit": result.returncode, "output": (result.stdout + result.stderr).strip()}
    entry["kinds"] = sorted(kinds)
    for path, text in manifests.items():
        if "servicemonitor" in path and text.strip():
            monitor = yaml.safe_load(text)
            endpoint = (monitor.get("spec", {}).get("endpoints") or [{}])[0]
            if monitor.get("apiVersion") != "monitoring.coreos.com/v1" or endpoint.get("port") != "http" or endpoint.get("path") != "/metrics":
                entry["servicemonitor_error"] = "ServiceMonitor does not scrape port http at /metrics"
                failed = True
    if entry["lint_errors"] or entry["lint_messages"] or result.returncode != 0:
        failed = True
    report[name] = entry
print(json.dumps(report, indent=2))
sys.exit(1 if failed else 0)
