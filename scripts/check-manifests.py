#!/usr/bin/env python3
"""Cross-checks deploy/ beyond what schema validation sees, and extracts the ConfigMap's config.

  scripts/check-manifests.py OUT.yaml     # writes the ConfigMap's brokerfront.yaml to OUT.yaml

- deploy/kubernetes.yaml: the pod runs as a numeric non-root user; readiness on GET /healthz of the
  admin port; a preStop delay; terminationGracePeriodSeconds above preStop + drain_timeout; the admin
  token comes from a Secret through token_env or token_file; the container's admin port is the
  config's admin.bind port; a Service exposes it as `metrics`; a NetworkPolicy covers the pods.
- deploy/kubernetes-monitoring.yaml (PodMonitor, a Prometheus Operator CRD that kubernetes-validate
  has no schema for): its selector matches the pods and its port is a named container port.
- deploy/grafana/brokerfront.json and deploy/prometheus/brokerfront-rules.yaml only use metric names
  that the sources define.
"""
import json
import pathlib
import re
import sys

import yaml

root = pathlib.Path(__file__).resolve().parent.parent
problems = []


def check(condition, message):
    if not condition:
        problems.append(message)


def seconds(text):
    match = re.fullmatch(r"(\d+)(ms|s|m|h)", str(text))
    check(match is not None, f"drain_timeout `{text}` is not a simple duration")
    if not match:
        return 0
    value, unit = int(match[1]), match[2]
    return value * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


docs = [d for d in yaml.safe_load_all((root / "deploy/kubernetes.yaml").read_text()) if d]
by_kind = {}
for doc in docs:
    by_kind.setdefault(doc["kind"], []).append(doc)
config_text = by_kind["ConfigMap"][0]["data"]["brokerfront.yaml"]
config = yaml.safe_load(config_text)
deployment = by_kind["Deployment"][0]
pod = deployment["spec"]["template"]["spec"]
labels = deployment["spec"]["template"]["metadata"]["labels"]
container = pod["containers"][0]

security = pod.get("securityContext", {})
check(security.get("runAsNonRoot") is True, "runAsNonRoot is not set")
check(isinstance(security.get("runAsUser"), int) and security["runAsUser"] > 0, "runAsUser is not a numeric non-root UID")
ports = {p["name"]: p["containerPort"] for p in container["ports"]}
admin_port = int(str(config["admin"]["bind"]).rsplit(":", 1)[1])
check(ports.get("admin") == admin_port, f"container port `admin` {ports.get('admin')} is not admin.bind's {admin_port}")
readiness = container.get("readinessProbe", {}).get("httpGet", {})
check(readiness.get("path") == "/healthz" and readiness.get("port") in ("admin", admin_port), "readiness is not GET /healthz on the admin port")
pre_stop = container.get("lifecycle", {}).get("preStop", {})
delay = pre_stop.get("sleep", {}).get("seconds", 0)
check(delay > 0, "no preStop delay")
grace = pod.get("terminationGracePeriodSeconds", 30)
drain = seconds(config.get("drain_timeout", "30s"))
check(grace > delay + drain, f"terminationGracePeriodSeconds {grace} is not above preStop {delay} s + drain_timeout {drain} s")
admin = config.get("admin", {})
env_names = {e["name"]: e for e in container.get("env", [])}
if "token_env" in admin:
    source = env_names.get(admin["token_env"], {}).get("valueFrom", {})
    check("secretKeyRef" in source, f"admin.token_env {admin['token_env']} is not set from a Secret")
elif "token_file" in admin:
    mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
    check(any(admin["token_file"].startswith(m) for m in mounts), "admin.token_file is not on a mounted Secret")
else:
    problems.append("the admin plane binds 0.0.0.0 with no token from a Secret")
services = by_kind.get("Service", [])
check(any(p.get("name") == "metrics" and p.get("targetPort") in ("admin", admin_port)
          for s in services for p in s["spec"]["ports"]), "no Service port `metrics` for the admin plane")
policies = by_kind.get("NetworkPolicy", [])
check(any(p["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items() for p in policies), "no NetworkPolicy selects the pods")

monitors = [d for d in yaml.safe_load_all((root / "deploy/kubernetes-monitoring.yaml").read_text()) if d]
for monitor in monitors:
    check(monitor.get("apiVersion") == "monitoring.coreos.com/v1" and monitor.get("kind") == "PodMonitor", f"unexpected object {monitor.get('kind')}")
    check(monitor["spec"]["selector"]["matchLabels"].items() <= labels.items(), "PodMonitor selector does not match the pods")
    for endpoint in monitor["spec"]["podMetricsEndpoints"]:
        check(endpoint.get("port") in ports, f"PodMonitor port {endpoint.get('port')} is not a named container port")
        check(endpoint.get("path", "/metrics") == "/metrics", "PodMonitor path is not /metrics")

sources = "\n".join(p.read_text() for p in (root / "Sources").rglob("*.swift"))
known = set(re.findall(r'"((?:brokerfront|process)_[a-z_]+)"', sources))
known |= set(re.findall(r'add\(\s*"((?:process)_[a-z_]+)"', sources))
known |= set(re.findall(r'\b(brokerfront_build_info)\b', sources))
known |= {"brokerfront_relay_threads", "brokerfront_relayed_sessions"}  # namespace + name + unit in AdminServer
dashboard = (root / "deploy/grafana/brokerfront.json").read_text()
json.loads(dashboard)
rules = (root / "deploy/prometheus/brokerfront-rules.yaml").read_text()
for name, text in (("dashboard", dashboard), ("alert rules", rules)):
    for metric in sorted(set(re.findall(r"\b((?:brokerfront|process)_[a-z_]+)", text))):
        check(metric in known, f"{name}: metric {metric} is not defined in Sources")

if problems:
    for problem in problems:
        print(f"check-manifests: {problem}", file=sys.stderr)
    sys.exit(1)
if len(sys.argv) > 1:
    pathlib.Path(sys.argv[1]).write_text(config_text)
print(f"check-manifests: OK ({len(docs)} objects, {len(monitors)} PodMonitor, dashboard and rules use {len(known)} known metric names)")
