"""Drives the OFFICIAL qai-hub client (0.56.0) against `edgegate hub-sim`.

Run through run.sh, which starts the simulator and writes the client.ini this script reads
(QAIHUB_CLIENT_INI). Every step asserts; the first failure exits non-zero with a traceback.
"""

import argparse
import hashlib
import os
import struct
import subprocess
import sys
import traceback
import warnings

import numpy as np

import qai_hub as hub
import qai_hub.client
from qai_hub.client import ClientConfig

S24 = "Samsung Galaxy S24"
S23 = "Samsung Galaxy S23"
PIXEL4 = "Google Pixel 4"

passed = []


def step(name):
    def wrap(fn):
        def run(*a, **kw):
            try:
                out = fn(*a, **kw)
            except Exception:
                traceback.print_exc()
                print(f"FAIL {name}", flush=True)
                print(f"{len(passed)} passed, 1 failed", flush=True)
                sys.exit(1)
            passed.append(name)
            print(f"ok   {name}", flush=True)
            return out

        return run

    return wrap


def expected_measurement(model_sha: str, device: str, has_npu: bool = True) -> dict:
    """The simulator's documented default measurement rule (src/sim/measure.rs)."""
    h = hashlib.sha256(f"{model_sha}\n{device}".encode()).digest()
    word = lambda i: struct.unpack("<I", h[i : i + 4])[0]  # noqa: E731
    layers = 8 + h[8] % 25
    return {
        "inference_us": 1000 + word(0) % 9000,
        "peak_bytes": 16 * 1024 * 1024 + word(4) % (112 * 1024 * 1024),
        "layers": {"NPU": layers} if has_npu else {"CPU": layers},
    }


def unit_counts(profile: dict) -> dict:
    counts: dict = {}
    for layer in profile["execution_detail"]:
        counts[layer["compute_unit"]] = counts.get(layer["compute_unit"], 0) + 1
    return counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--ini", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()

    warnings.simplefilter("ignore", DeprecationWarning)
    qai_hub.client.Job._polling_interval = 1
    model_sha = hashlib.sha256(open(args.model, "rb").read()).hexdigest()

    @step("get_devices: all")
    def all_devices():
        devices = hub.get_devices()
        names = [d.name for d in devices]
        assert len(devices) >= 10, names
        assert S24 in names and PIXEL4 in names, names
        for d in devices:
            assert all(a.count(":") == 1 for a in d.attributes), d
        return devices

    all_devices()

    @step("get_devices: by name")
    def by_name():
        devices = hub.get_devices(name=S24)
        assert [d.name for d in devices] == [S24], devices
        assert devices[0].os == "14", devices[0]
        assert "chipset:qualcomm-snapdragon-8gen3" in devices[0].attributes

    by_name()

    @step("get_devices: by attributes")
    def by_attributes():
        devices = hub.get_devices(attributes=["os:android", "framework:qnn"])
        assert devices, "no android qnn device"
        for d in devices:
            assert "os:android" in d.attributes and "framework:qnn" in d.attributes, d
        one = hub.get_devices(attributes="chipset:qualcomm-snapdragon-8gen3")
        assert S24 in [d.name for d in one], one
        assert hub.get_devices(name="No Such Phone") == []

    by_attributes()

    @step("get_device_attributes / get_frameworks")
    def attrs_frameworks():
        attrs = hub.get_device_attributes()
        assert "framework:tflite" in attrs and "os:android" in attrs, attrs
        frameworks = hub.get_frameworks()
        assert frameworks and frameworks[0].name == "QAIRT", frameworks

    attrs_frameworks()

    @step("submit_compile_job (multi-part upload) + wait + get_target_model")
    def compile_():
        job = hub.submit_compile_job(
            model=args.model,
            device=hub.Device(S24),
            options="--target_runtime tflite",
            input_specs={"x": (1, 4)},
        )
        assert isinstance(job, hub.CompileJob), job
        target = job.get_target_model()
        assert target is not None, "target model not seeded at creation"
        status = job.wait()
        assert status.success, status
        assert job.get_status().code == "SUCCESS", job.get_status()
        target = job.get_target_model()
        assert target.model_type == hub.SourceModelType.TFLITE, target.model_type
        shapes = job.get_target_shapes()
        assert shapes == {"x": ((1, 4), "float32")}, shapes
        path = target.download(os.path.join(args.work, "target"))
        assert str(path).endswith(".tflite") and os.path.getsize(path) > 0, path
        assert model_sha in open(path).read()
        return job, target

    compile_job, target = compile_()

    @step("submit_profile_job + download_profile (predicted numbers)")
    def profile():
        job = hub.submit_profile_job(model=target, device=hub.Device(S24))
        assert isinstance(job, hub.InferenceJob), type(job)
        prof = job.download_profile()
        want = expected_measurement(model_sha, S24)
        summary = prof["execution_summary"]
        assert summary["estimated_inference_time"] == want["inference_us"], (summary, want)
        assert summary["estimated_inference_peak_memory"] == want["peak_bytes"], summary
        times = summary["all_inference_times"]
        assert len(times) == 100, len(times)
        assert all(abs(t - want["inference_us"]) <= want["inference_us"] * 0.05 + 1 for t in times)
        assert summary["inference_memory_peak_range"][1] == want["peak_bytes"], summary
        assert unit_counts(prof) == want["layers"], unit_counts(prof)
        path = job.download_profile(os.path.join(args.work, "profile"))
        assert os.path.getsize(path) > 0
        logs = job.download_job_logs(os.path.join(args.work, "logs"))
        assert logs and all(os.path.getsize(p) > 0 for p in logs), logs
        return job

    profile_job = profile()

    @step("profile with scenario overrides (S23: 4.2 ms, 55 MB, NPU/GPU/CPU split)")
    def profile_override():
        job = hub.submit_profile_job(model=target, device=hub.Device(S23))
        prof = job.download_profile()
        summary = prof["execution_summary"]
        assert summary["estimated_inference_time"] == 4200, summary
        assert summary["estimated_inference_peak_memory"] == 55 * 1024 * 1024, summary
        assert unit_counts(prof) == {"NPU": 5, "GPU": 2, "CPU": 1}, unit_counts(prof)

    profile_override()

    @step("submit_inference_job with inputs + download_output_data")
    def inference():
        a = np.arange(4, dtype=np.float32).reshape(1, 4)
        b = np.full((1, 4), 2.5, dtype=np.float32)
        job = hub.submit_inference_job(
            model=target, device=hub.Device(S24), inputs={"x": [a, b]}
        )
        assert isinstance(job, hub.InferenceJob)
        out = job.download_output_data()
        # tiny.onnx is y = x + x and the simulator runs ONNX models for real.
        assert list(out.keys()) == ["y"], out.keys()
        assert len(out["y"]) == 2
        np.testing.assert_array_equal(out["y"][0], a + a)
        np.testing.assert_array_equal(out["y"][1], b + b)
        job.set_name("renamed-inference")
        assert hub.get_job(job.job_id).name == "renamed-inference"
        return job

    inference_job = inference()

    @step("failed compile (scenario) and a profile failing on its dependency")
    def failures():
        job = hub.submit_compile_job(
            model=args.model, device=hub.Device(PIXEL4), input_specs={"x": (1, 4)}
        )
        dependent = hub.submit_profile_job(model=job.get_target_model(), device=hub.Device(PIXEL4))
        status = job.wait()
        assert status.failure and "simulated compiler crash" in (status.message or ""), status
        dep_status = dependent.wait()
        assert dep_status.failure, dep_status
        assert "produces this job's model failed" in (dep_status.message or ""), dep_status

    failures()

    @step("get_job_summaries")
    def summaries():
        compiles = hub.get_job_summaries(type=hub.JobType.COMPILE, limit=10)
        ids = [s.job_id for s in compiles]
        assert compile_job.job_id in ids, ids
        assert profile_job.job_id not in ids

    summaries()

    @step("unknown job id -> not found")
    def unknown():
        try:
            hub.get_job("jzzzzzzzz")
        except hub.UserError as e:
            assert "could not be found" in str(e), e
        else:
            raise AssertionError("get_job of an unknown id succeeded")

    unknown()

    @step("bad token -> authentication error")
    def bad_token():
        client = hub.Client(
            ClientConfig(api_token="wrong", api_url=args.url, web_url=args.url, verbose=False)
        )
        try:
            client.get_devices()
        except hub.UserError as e:
            assert "authenticate" in str(e), e
        else:
            raise AssertionError("a wrong token was accepted")

    bad_token()

    @step("qai-hub list-devices CLI through QAIHUB_CLIENT_INI")
    def cli():
        exe = os.path.join(os.path.dirname(sys.executable), "qai-hub")
        env = dict(os.environ, QAIHUB_CLIENT_INI=args.ini)
        out = subprocess.run([exe, "list-devices"], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, (out.returncode, out.stdout, out.stderr)
        assert S24 in out.stdout and "Android 14" in out.stdout, out.stdout

    cli()

    print(f"{len(passed)} passed, 0 failed", flush=True)


if __name__ == "__main__":
    main()
