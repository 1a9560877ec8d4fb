"""The Kubernetes ConfigMaps of deploy/scale embed exactly the files the local scale stack runs.

Runs in the default suite (no stack needed): an edit to deploy/scale/config/ that is not
copied into the manifests by deploy/scale/sync-configmaps fails here.
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.scale.scale_stack import SCALE

EMBEDDED = [
    ("otel-gateway.yaml", "otelcol.yaml", "gateway.yaml"),
    ("otel-gateway.yaml", "resolver.yaml", "gateway-resolver-dns.yaml"),
    ("jaeger-collector.yaml", "jaeger.yaml", "jaeger-collector.yaml"),
    ("jaeger-collector.yaml", "sampling-strategies.json", "sampling-strategies.json"),
    ("jaeger-query.yaml", "jaeger.yaml", "jaeger-query.yaml"),
]


def configmap_data(manifest: str) -> dict[str, str]:
    (configmap,) = [
        doc
        for doc in yaml.safe_load_all((SCALE / manifest).read_text())
        if doc["kind"] == "ConfigMap"
    ]
    return configmap["data"]


@pytest.mark.parametrize(("manifest", "key", "source"), EMBEDDED)
def test_the_configmap_embeds_the_file_the_local_stack_runs(manifest, key, source):
    assert configmap_data(manifest)[key] == (SCALE / "config" / source).read_text()


def test_every_file_the_local_stack_runs_is_embedded():
    scripts = (SCALE / "lib" / "tiers.sh").read_text()
    for name in ("gateway", "jaeger-collector", "jaeger-query"):
        assert f"config/{name}" in scripts, name
    assert {source for _m, _k, source in EMBEDDED} == {p.name for p in (SCALE / "config").iterdir()}


def test_sync_configmaps_check_agrees():
    result = subprocess.run(
        [str(SCALE / "sync-configmaps"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
