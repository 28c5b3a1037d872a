#!/usr/bin/env python3
"""The consumer guide's end-to-end flow against an `edgegate serve` API.

Registers a random user, logs in, creates a workspace, connects AI Hub, probes the devices,
creates and publishes the `vision-qa` promptpack, creates the "Production Gate - RB5" pipeline,
uploads a model, triggers a run, polls it to the end and prints the report URL.

    pip install httpx
    python examples/quickstart.py                      # API at http://127.0.0.1:8080
    python examples/quickstart.py --url http://host:8080 --model model.pt --kind torchscript

The AI Hub token comes from QAIHUB_API_TOKEN (or --hub-token). Against `edgegate hub-sim`, use
the token the simulator was started with. Exit code: 0 when the run passed, 1 when a gate
failed, 3 when the run ended in error (not measured, interrupted, infrastructure), 2 when a
step of the flow itself was refused.
"""

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent


def step(name, resp, expect):
    """Stops with the server's answer when a step does not return the expected status."""
    if resp.status_code not in expect:
        print(f"{name}: HTTP {resp.status_code}: {resp.text[:500]}", file=sys.stderr)
        sys.exit(2)
    print(f"{name}: {resp.status_code}")
    return resp.json() if resp.content else {}


def poll(client, path, headers, done, timeout, what):
    """Polls `path` until `done(body)` or the timeout; returns the last body."""
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        body = step(f"poll {what}", client.get(path, headers=headers), (200,))
        if done(body):
            return body
        if time.monotonic() > deadline:
            print(f"{what} did not finish within {timeout:.0f} s (last status: {body.get('status')})",
                  file=sys.stderr)
            sys.exit(3)
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("EDGEGATE_URL", "http://127.0.0.1:8080"),
                        help="base URL of `edgegate serve` (env EDGEGATE_URL)")
    parser.add_argument("--hub-token", default=os.environ.get("QAIHUB_API_TOKEN", ""),
                        help="AI Hub API token (env QAIHUB_API_TOKEN)")
    parser.add_argument("--model", default=str(HERE / "aihub" / "model.onnx"),
                        help="model file to upload (default: examples/aihub/model.onnx)")
    parser.add_argument("--kind", default=None,
                        help="artifact kind: onnx, torchscript, tflite, qnn_dlc, qnn_context_binary "
                             "(default: from the file extension)")
    parser.add_argument("--runs", type=int, default=1,
                        help="trigger this many runs of the pipeline, one after another (default 1)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds to wait for the probe and for the run (default 600)")
    args = parser.parse_args()
    if not args.hub_token:
        parser.error("an AI Hub token is needed: set QAIHUB_API_TOKEN or pass --hub-token")
    kind = args.kind or {".onnx": "onnx", ".pt": "torchscript", ".pth": "torchscript",
                         ".tflite": "tflite", ".dlc": "qnn_dlc", ".bin": "qnn_context_binary"
                         }.get(Path(args.model).suffix.lower(), "onnx")

    email = f"quickstart-{secrets.token_hex(6)}@example.com"
    password = secrets.token_urlsafe(18)

    with httpx.Client(base_url=args.url, timeout=60.0) as client:
        # A. User registration & login
        step("register", client.post("/v1/auth/register", json={"email": email, "password": password}),
             (200, 201))
        token = step("login", client.post("/v1/auth/login", data={"username": email, "password": password}),
                     (200,))["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        # B. Workspace creation
        ws_id = step("workspace", client.post("/v1/workspaces", json={"name": "Robotics Fleet A"},
                                              headers=headers), (200, 201))["id"]

        # C. Connect AI Hub
        step("connect AI Hub", client.post(f"/v1/workspaces/{ws_id}/integrations/qaihub",
                                           json={"token": args.hub_token}, headers=headers), (200, 201))

        # D. Capability discovery (probe)
        task_id = step("probe", client.post(f"/v1/workspaces/{ws_id}/capabilities/probe", headers=headers),
                       (200, 202))["task_id"]
        task = poll(client, f"/v1/workspaces/{ws_id}/tasks/{task_id}", headers,
                    lambda b: b.get("status") in ("succeeded", "failed"), args.timeout, "probe")
        if task["status"] != "succeeded":
            print(f"probe failed: {task.get('error') or task.get('detail')}", file=sys.stderr)
            sys.exit(3)
        devices = (task.get("result") or {}).get("devices", [])
        print(f"  {len(devices)} AI Hub devices")

        # E. Create & publish a promptpack
        content = {
            "promptpack_id": "vision-qa",
            "version": "1.0.0",
            "name": "Vision QA Suite",
            "cases": [
                {
                    "case_id": "detect_object",
                    "name": "Detect Robot",
                    "prompt": "What is in this image?",
                    "expected": {"type": "exact", "text": "robot"},
                }
            ],
        }
        step("promptpack", client.post(f"/v1/workspaces/{ws_id}/promptpacks",
                                       json={"promptpack_id": "vision-qa", "version": "1.0.0",
                                             "content": content}, headers=headers), (200, 201))
        step("publish", client.put(f"/v1/workspaces/{ws_id}/promptpacks/vision-qa/1.0.0/publish",
                                   headers=headers), (200,))

        # F. Create a pipeline
        pipeline_id = step("pipeline", client.post(
            f"/v1/workspaces/{ws_id}/pipelines",
            json={
                "name": "Production Gate - RB5",
                "promptpack_ref": {"promptpack_id": "vision-qa", "version": "1.0.0"},
                "device_matrix": [{"name": "RB5", "enabled": True}],
                "gates": [{"metric": "inference_time_ms", "operator": "lte", "threshold": 150.0}],
            },
            headers=headers), (200, 201))["id"]

        # G. Upload the model and trigger a run
        with open(args.model, "rb") as f:
            artifact_id = step("upload model", client.post(
                f"/v1/workspaces/{ws_id}/artifacts", files={"file": (Path(args.model).name, f)},
                data={"kind": kind}, headers=headers), (200, 201))["id"]
        for _ in range(max(args.runs, 1)):
            run = step("trigger run", client.post(
                f"/v1/workspaces/{ws_id}/runs",
                json={"pipeline_id": pipeline_id, "model_artifact_id": artifact_id}, headers=headers),
                (200, 201, 202))
            run = poll(client, f"/v1/workspaces/{ws_id}/runs/{run['id']}", headers,
                       lambda b: b.get("status") in ("passed", "failed", "error"), args.timeout, "run")
            print(f"run {run['id']}: {run['status']}")
        if run.get("error_detail"):
            print(f"  {run['error_detail']}")
        for gate in run.get("gates") or []:
            print(f"  gate {gate.get('metric')} on {gate.get('device', '-')}: {gate.get('status')}")
        # The links carry a page key (?key=…), so they open in a browser as they are.
        for name in ("report", "history"):
            link = run.get(f"{name}_url")
            if link:
                print(f"{name}: {httpx.URL(args.url).join(link)}")

    sys.exit({"passed": 0, "failed": 1}.get(run["status"], 3))


if __name__ == "__main__":
    main()
