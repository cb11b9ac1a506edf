"""The Kubernetes manifests (deploy/kubernetes) checked offline: each against
the API's JSON schemas by kubernetes-validate (strict: unknown fields are
errors), and against what the server and the Dockerfile really do (ports,
probe paths, environment names, the user)."""

import copy
import re
import subprocess

import pytest
import yaml

from conftest import BIN, ROOT, curl

DEPLOY = ROOT / "deploy" / "kubernetes"
MANIFESTS = sorted(p for p in DEPLOY.glob("*.yaml") if p.name != "kustomization.yaml")


def validate(path, version):
    return subprocess.run(["kubernetes-validate", "--strict", "-k", version, str(path)],
                          capture_output=True, text=True)


@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_is_valid_for_the_api(path, version):
    out = validate(path, version)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_validator_rejects_a_broken_manifest(tmp_path):
    deployment = yaml.safe_load((DEPLOY / "deployment.yaml").read_text())
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(broken))
    assert validate(tmp_path / "a.yaml", "1.30.0").returncode != 0
    broken = copy.deepcopy(deployment)
    broken["spec"]["replicas"] = "two"
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(broken))
    assert validate(tmp_path / "b.yaml", "1.30.0").returncode != 0


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == [p.name for p in MANIFESTS]


def test_manifests_agree_with_the_server_and_the_dockerfile(server):
    docs = {p.stem: yaml.safe_load(p.read_text()) for p in MANIFESTS}
    pod = docs["deployment"]["spec"]["template"]
    container = pod["spec"]["containers"][0]
    labels = pod["metadata"]["labels"]
    assert docs["deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert docs["service"]["spec"]["selector"].items() <= labels.items()
    assert docs["pdb"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert docs["hpa"]["spec"]["scaleTargetRef"]["name"] == docs["deployment"]["metadata"]["name"]
    # Every variable is one `pixpress serve` reads.
    help_text = subprocess.run([str(BIN), "serve", "--help"], capture_output=True, text=True, check=True).stdout
    known = set(re.findall(r"env: (PIXPRESS_[A-Z_]+)", help_text))
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env.keys() <= known, env.keys() - known
    # The ports listened on are the ones declared, exposed and served.
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert env["PIXPRESS_HTTP_ADDR"].endswith(f":{ports['http']}")
    assert env["PIXPRESS_GRPC_ADDR"].endswith(f":{ports['grpc']}")
    assert {p["targetPort"] for p in docs["service"]["spec"]["ports"]} == ports.keys()
    dockerfile = (ROOT / "Dockerfile").read_text()
    exposed = set(map(int, re.search(r"^EXPOSE (.+)$", dockerfile, re.M).group(1).split()))
    assert exposed == set(ports.values())
    # The probes ask what the server answers.
    for probe in ("readinessProbe", "livenessProbe"):
        path = container[probe]["httpGet"]["path"]
        assert curl(server.http + path)[0] == 200, path
    assert container["startupProbe"]["grpc"]["service"] == "pixpress.v1.Pixpress"
    # The pod runs as the image's user, and the grace period covers delay + drain.
    user = re.search(r"^USER (\d+):(\d+)$", dockerfile, re.M)
    assert pod["spec"]["securityContext"]["runAsUser"] == int(user.group(1))
    grace = pod["spec"]["terminationGracePeriodSeconds"]
    assert grace > float(env["PIXPRESS_SHUTDOWN_DELAY"]) + float(env["PIXPRESS_DRAIN_TIMEOUT"])
    assert container["args"] == [re.search(r"^CMD \[\"(\w+)\"\]$", dockerfile, re.M).group(1)]
