//! JUnit XML in the Jenkins/Surefire dialect every consumer reads (GitLab, Jenkins, dorny,
//! mikepenz): one `<testsuite>` per device, named `<pipeline>/<device>`, with a `device:run`
//! test case, one per gate and one per case. Reads results only, through `report::format`;
//! must not reach into devices, the engine or commands.
//!
//! The rule: the JUnit is red exactly when the gate is, because only what decides the verdict
//! fails. A gate that failed is a `<failure>`; a device that could not be measured (`device:run`)
//! and a gate that could not be measured are an `<error>`; so a passing run (exit 0) has
//! neither, a failing one (exit 1) has a `<failure>`, and one that could not complete (exit 3)
//! has an `<error>`. Cases never fail or error on their own: a case whose expectation missed
//! (or that had no output) is a passed test case carrying the miss in its `system-out` and its
//! `case.*` properties, since an `accuracy` gate may allow it. When a gate that counts cases
//! (`accuracy`) fails, its `<failure>` lists the cases that missed. Cases with nothing to check
//! stay `<skipped>`.
//!
//! Properties live on test cases only, never on a `<testsuite>`: some readers (xunitparser) put
//! the properties of every suite of a file in one map and refuse a name seen twice, and every
//! device has a `device`, a `model.sha256`, … The device's (device, provider, verdict, model,
//! AI Hub device, runtime, layers, jobs, CI run link) are on its `device:run` test case; a case
//! that missed carries `case.*`. Names are unique within each test case: jobs are
//! `job.<kind>.id` and `job.<kind>.url`, a repeated kind `job.<kind>.<n>.id` from n = 2.

use std::collections::BTreeSet;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::config::types::Metric;
use crate::report::error::ReportError;
use crate::report::format::{self, Digits};
use crate::results::{
    CaseResult, CaseStatus, DeviceResult, GateResult, GateStatus, Results, Verdict,
};

/// Longest text kept in a failure message (full details go in the element's body).
const MESSAGE_CHARS: usize = 500;

/// Renders the JUnit XML of a run.
pub fn render(results: &Results) -> Result<String, ReportError> {
    let pipeline = slug(&results.pipeline);
    let mut report = Report::new(format!("edgegate.{pipeline}"));
    if let Some(ts) = timestamp(&results.started_at) {
        report.set_timestamp(ts);
    }
    report.set_time(seconds(results.duration_s));
    let mut used = BTreeSet::new();
    for device in &results.devices {
        let mut dslug = slug(&device.name);
        let base = dslug.clone();
        let mut n = 2;
        while !used.insert(dslug.clone()) {
            dslug = format!("{base}_{n}");
            n += 1;
        }
        report.add_test_suite(suite(
            results,
            device,
            &format!("edgegate.{pipeline}.{dslug}"),
        ));
    }
    report.to_string().map_err(ReportError::Junit)
}

/// Keeps `[A-Za-z0-9_-]`, turns every other run of characters into one `_`, so a name is one
/// segment of a dotted classname (Jenkins splits at dots).
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() {
        "unnamed".into()
    } else {
        out
    }
}

fn suite(results: &Results, device: &DeviceResult, classname: &str) -> TestSuite {
    let mut suite = TestSuite::new(format!("{}/{}", results.pipeline, device.name));
    if let Some(ts) = timestamp(&results.started_at) {
        suite.set_timestamp(ts);
    }
    suite.set_time(seconds(device.duration_s));
    let out = device_out(device);
    suite.set_system_out(out.clone());

    let mut names = Names::default();
    let mut run = TestCase::new(
        names.unique("device:run".into()),
        match &device.error {
            Some(err) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_type("infra.device_error")
                    .set_message(format::clip(&clean(err), MESSAGE_CHARS))
                    .set_description(clean(err));
                s
            }
            None => TestCaseStatus::success(),
        },
    );
    run.set_classname(classname)
        .set_time(seconds(device.duration_s))
        .set_system_out(out);
    run.add_properties(unique(properties(results, device)));
    suite.add_test_case(run);

    for gate in &device.gates {
        let mut tc = TestCase::new(
            names.unique(format!("gate:{}", format::gate_key(gate))),
            gate_status(gate, device),
        );
        tc.set_classname(classname).set_time(Duration::ZERO);
        if gate.status == GateStatus::Passed {
            tc.set_system_out(clean(&gate_out(gate, device)));
        }
        if let Some(formula) = &gate.estimate {
            tc.add_property(Property::new("estimate", clean(formula)));
        }
        suite.add_test_case(tc);
    }
    for case in &device.cases {
        let mut tc = TestCase::new(
            names.unique(format!("case:{}", case.case_id)),
            case_status(case),
        );
        tc.set_classname(classname)
            .set_time(seconds(case.latency_ms.unwrap_or(0.0) / 1000.0));
        if matches!(case.status, CaseStatus::Failed | CaseStatus::Error) {
            tc.set_system_out(case_out(case, device));
            tc.add_properties(unique(case_properties(case)));
        }
        suite.add_test_case(tc);
    }
    suite
}

fn properties(results: &Results, device: &DeviceResult) -> Vec<Property> {
    let mut p: Vec<Property> = vec![
        ("device", device.name.as_str()).into(),
        ("provider", provider_name(device)).into(),
        ("verdict", format::verdict_word(device.verdict)).into(),
        ("model.path", results.model.path.as_str()).into(),
        ("model.sha256", results.model.sha256.as_str()).into(),
    ];
    if let Some(h) = &device.hub_device {
        p.push(("hub_device", h.as_str()).into());
    }
    if let Some(r) = &device.runtime {
        p.push(("runtime", r.as_str()).into());
    }
    if let Some(l) = &device.layers {
        p.push(Property::new(
            "layers",
            format!("npu={} gpu={} cpu={}", l.npu, l.gpu, l.cpu),
        ));
    }
    let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
    for job in &device.jobs {
        let kind = format::job_kind(job.kind);
        let n = kinds.entry(kind).or_default();
        *n += 1;
        let prefix = match *n {
            1 => format!("job.{kind}"),
            n => format!("job.{kind}.{n}"),
        };
        p.push(Property::new(format!("{prefix}.id"), job.id.as_str()));
        if let Some(url) = &job.url {
            p.push(Property::new(format!("{prefix}.url"), url.as_str()));
        }
    }
    if let Some(url) = results.ci.as_ref().and_then(|c| c.run_url.as_deref()) {
        p.push(("ci.run_url", url).into());
    }
    p
}

fn device_out(device: &DeviceResult) -> String {
    let mut out = format!("device: {}\n", device.name);
    if let Some(h) = &device.hub_device {
        out.push_str(&format!("hub_device: {h}\n"));
    }
    if let Some(r) = &device.runtime {
        out.push_str(&format!("runtime: {r}\n"));
    }
    if !device.metrics.is_empty() {
        out.push_str("metrics:\n");
        for (name, m) in &device.metrics {
            let p90 = m
                .p90
                .map(|p| format!(" (p90 {})", Digits::REPORT.num(p)))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {name}: {}{p90}\n",
                Digits::REPORT.with_unit(m.value, &m.unit)
            ));
        }
    }
    if !device.jobs.is_empty() {
        out.push_str("jobs:\n");
        for job in &device.jobs {
            let reused = if job.reused { " (reused)" } else { "" };
            match &job.url {
                Some(url) => out.push_str(&format!(
                    "  {} {}{reused}: {url}\n",
                    format::job_kind(job.kind),
                    job.id
                )),
                None => out.push_str(&format!(
                    "  {} {}{reused}\n",
                    format::job_kind(job.kind),
                    job.id
                )),
            }
        }
    }
    if let Some(err) = &device.error {
        out.push_str(&format!("error: {err}\n"));
    }
    clean(&out)
}

fn gate_out(gate: &GateResult, device: &DeviceResult) -> String {
    let unit = format::unit(gate.metric, Some(device));
    let mut out = format!("{}\n{}\n", format::gate_statement(gate, unit), gate.message);
    if let Some(d) = &gate.description {
        out.push_str(&format!("why: {d}\n"));
    }
    if gate.status == GateStatus::Failed && gate.metric == Metric::Accuracy {
        let missed: Vec<&CaseResult> = device
            .cases
            .iter()
            .filter(|c| matches!(c.status, CaseStatus::Failed | CaseStatus::Error))
            .collect();
        if !missed.is_empty() {
            out.push_str(&format!("missed cases ({}):\n", missed.len()));
            for c in missed {
                out.push_str(&format!("  {}: {}\n", c.case_id, miss_text(c)));
            }
        }
    }
    out
}

/// One line on what a case that missed expected and got.
fn miss_text(case: &CaseResult) -> String {
    let reason = case
        .reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    match case.status {
        CaseStatus::Error => case
            .reason
            .clone()
            .unwrap_or_else(|| "no output to check".into()),
        _ => format!(
            "expected {} ({}), got {}{reason}",
            case.expected, case.expected_type, case.actual
        ),
    }
}

/// The `system-out` of a case that missed: what it expected and got, and that the gates decide.
fn case_out(case: &CaseResult, device: &DeviceResult) -> String {
    let first = match case.status {
        CaseStatus::Error => miss_text(case),
        _ => format!("missed: {}", miss_text(case)),
    };
    let decided = match device.verdict {
        Verdict::Passed => "the gates on this device passed, so this miss does not fail the run",
        Verdict::Failed => "it does not fail on its own; the gates on this device decide",
        Verdict::Error => "it does not fail on its own; the device could not be fully measured",
    };
    let mut out = format!(
        "{first}\nexpected ({}): {}\nactual: {}\n",
        case.expected_type, case.expected, case.actual
    );
    if let Some(r) = &case.reason {
        out.push_str(&format!("reason: {r}\n"));
    }
    out.push_str(&format!("{decided}\n"));
    clean(&out)
}

fn case_properties(case: &CaseResult) -> Vec<Property> {
    let status = match case.status {
        CaseStatus::Failed => "failed",
        CaseStatus::Error => "error",
        CaseStatus::Passed => "passed",
        CaseStatus::Skipped => "skipped",
    };
    let mut p: Vec<Property> = vec![
        ("case.status", status).into(),
        ("case.expected_type", case.expected_type.as_str()).into(),
        Property::new("case.expected", clean(&case.expected)),
        Property::new("case.actual", clean(&case.actual)),
    ];
    if let Some(r) = &case.reason {
        p.push(Property::new("case.reason", clean(r)));
    }
    p
}

/// Makes property names unique (`name`, `name.2`, `name.3`), since some readers (xunitparser)
/// keep properties in a map and refuse a repeated name.
fn unique(props: Vec<Property>) -> Vec<Property> {
    let mut names = BTreeSet::new();
    props
        .into_iter()
        .map(|mut p| {
            let base = p.name.as_str().to_string();
            let mut candidate = base.clone();
            let mut n = 2;
            while !names.insert(candidate.clone()) {
                candidate = format!("{base}.{n}");
                n += 1;
            }
            if candidate != base {
                p.name = candidate.into();
            }
            p
        })
        .collect()
}

fn gate_status(gate: &GateResult, device: &DeviceResult) -> TestCaseStatus {
    let unit = format::unit(gate.metric, Some(device));
    match gate.status {
        GateStatus::Passed => TestCaseStatus::success(),
        GateStatus::Failed => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let ty = if gate.max_regression_pct.is_some() && gate.threshold.is_none() {
                "gate.regression"
            } else {
                "gate.threshold"
            };
            s.set_type(ty)
                .set_message(format::clip(
                    &clean(&format::gate_statement(gate, unit)),
                    MESSAGE_CHARS,
                ))
                .set_description(clean(&gate_out(gate, device)));
            s
        }
        GateStatus::Error => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            let msg = match &device.error {
                Some(err) => format!("{} ({err})", gate.message),
                None => gate.message.clone(),
            };
            s.set_type("gate.unmeasured")
                .set_message(format::clip(&clean(&msg), MESSAGE_CHARS))
                .set_description(clean(&gate_out(gate, device)));
            s
        }
    }
}

/// A case's own status: only `<skipped>` or passed; a miss is reported in `system-out` and
/// decided by the gates (see the module doc).
fn case_status(case: &CaseResult) -> TestCaseStatus {
    match case.status {
        CaseStatus::Passed | CaseStatus::Failed | CaseStatus::Error => TestCaseStatus::success(),
        CaseStatus::Skipped => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(
                case.reason
                    .as_deref()
                    .map(clean)
                    .unwrap_or_else(|| "nothing to check (expected: none)".into()),
            );
            s
        }
    }
}

/// Test names already used in one suite; later duplicates get ` #2`, ` #3`.
#[derive(Default)]
struct Names(BTreeSet<String>);

impl Names {
    fn unique(&mut self, name: String) -> String {
        let mut candidate = name.clone();
        let mut n = 2;
        while !self.0.insert(candidate.clone()) {
            candidate = format!("{name} #{n}");
            n += 1;
        }
        candidate
    }
}

fn provider_name(device: &DeviceResult) -> &'static str {
    match device.provider {
        crate::config::types::Provider::Aihub => "aihub",
        crate::config::types::Provider::Local => "local",
    }
}

/// Drops characters XML 1.0 cannot carry (quick-junit removes the control characters).
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        .collect()
}

fn seconds(s: f64) -> Duration {
    if s.is_finite() && s > 0.0 {
        Duration::from_secs_f64(s)
    } else {
        Duration::ZERO
    }
}

fn timestamp(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_one_classname_segment() {
        assert_eq!(slug("Production Gate - RB5"), "Production_Gate_-_RB5");
        assert_eq!(
            slug("Samsung Galaxy S24 (Family)"),
            "Samsung_Galaxy_S24_Family"
        );
        assert_eq!(slug("v1.2"), "v1_2");
        assert_eq!(slug("..."), "unnamed");
    }

    #[test]
    fn duplicate_names_get_a_suffix() {
        let mut n = Names::default();
        assert_eq!(n.unique("a".into()), "a");
        assert_eq!(n.unique("a".into()), "a #2");
        assert_eq!(n.unique("a".into()), "a #3");
    }
}
