//! Jobs: submit compile, profile (an inference job with profiling on) and inference; poll until
//! DONE or FAILED with an adaptive interval; read results as typed measurements.

use std::time::Instant;

use prost::Message;
use reqwest::Method;

use super::client::HubClient;
use super::error::HubError;
use super::measure::ProfileMeasurements;
use super::proto::{
    CompileJob, CreateUpdateResponse, Dataset, Device, DeviceList, InferenceJob, Job, JobResult,
    JobState, Model, NamedTensorType, NamedTensorTypeList, job, job_result,
};

/// What a compile job needs.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileRequest {
    /// The uploaded source model.
    pub model_id: String,
    /// The device as returned by [`HubClient::select_device`].
    pub device: Device,
    /// Job name shown in the web UI.
    pub name: String,
    /// Compiler flags, e.g. `--target_runtime tflite`.
    pub options: String,
    /// Input shapes and dtypes, needed where the format does not carry them.
    pub input_specs: Vec<NamedTensorType>,
    /// Calibration data for quantizing compiles.
    pub calibration_dataset_id: Option<String>,
}

/// What an inference or profile job needs.
#[derive(Debug, Clone, PartialEq)]
pub struct InferenceRequest {
    /// The model to run, usually a compile job's target model.
    pub model_id: String,
    /// The device as returned by [`HubClient::select_device`].
    pub device: Device,
    /// Job name shown in the web UI.
    pub name: String,
    /// Runtime flags, e.g. `--max_profiler_iterations 10`.
    pub options: String,
    /// Inputs; a profile without inputs runs on random data and has no outputs.
    pub dataset_id: Option<String>,
    /// Measure performance (a profile job) rather than only produce outputs.
    pub profile: bool,
}

/// A job the service accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedJob {
    /// The job id.
    pub job_id: String,
    /// Its web page.
    pub url: String,
}

/// A compile job the service accepted, with the target model it seeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedCompile {
    /// The job.
    pub job: SubmittedJob,
    /// The id the compiled model will have; profiles can chain on it before compilation ends.
    pub target_model_id: String,
}

/// The result of a finished inference or profile job.
#[derive(Debug, Clone, PartialEq)]
pub struct InferenceOutcome {
    /// The job.
    pub job_id: String,
    /// Output tensors, when inputs were given.
    pub output_dataset_id: Option<String>,
    /// Performance, when profiling was on.
    pub profile: Option<ProfileMeasurements>,
}

/// The state and failure reason of any kind of job.
pub fn job_status(job: &Job) -> (JobState, Option<&str>) {
    let (state, reason) = match &job.job {
        Some(job::Job::CompileJob(j)) => (j.job_state, j.failure_reason.as_deref()),
        Some(job::Job::InferenceJob(j)) => (j.job_state, j.failure_reason.as_deref()),
        Some(job::Job::ProfileJob(j)) => (j.job_state, j.failure_reason.as_deref()),
        Some(job::Job::QuantizeJob(j)) => (j.job_state, j.failure_reason.as_deref()),
        Some(job::Job::LinkJob(j)) => (j.job_state, j.failure_reason.as_deref()),
        None => (0, None),
    };
    (
        JobState::try_from(state).unwrap_or(JobState::Unspecified),
        reason,
    )
}

impl HubClient {
    async fn create_job(&self, body: Job, seed: bool) -> Result<String, HubError> {
        let query: &[(&str, &str)] = if seed {
            &[("seed_target_model", "true")]
        } else {
            &[]
        };
        let url = self.api_url(&["jobs"], query)?;
        let urm: CreateUpdateResponse = self
            .call(Method::POST, url, Some(body.encode_to_vec()), "jobs")
            .await?;
        created_id(urm, "POST jobs/")
    }

    /// Submits a compile job with `seed_target_model=true` and reads back the seeded target model.
    pub async fn submit_compile(&self, req: &CompileRequest) -> Result<SubmittedCompile, HubError> {
        let compile = CompileJob {
            model: Some(Model::reference(req.model_id.clone())),
            devices: Some(DeviceList {
                devices: vec![req.device.clone()],
                total_query_count: 1,
            }),
            tensor_type_list: (!req.input_specs.is_empty()).then(|| NamedTensorTypeList {
                types: req.input_specs.clone(),
            }),
            name: req.name.clone(),
            options: req.options.trim().to_string(),
            calibration_dataset: req.calibration_dataset_id.as_ref().map(|id| Dataset {
                dataset_id: Some(id.clone()),
                ..Dataset::default()
            }),
            ..CompileJob::default()
        };
        let body = Job {
            job: Some(job::Job::CompileJob(compile)),
            ..Job::default()
        };
        let job_id = self.create_job(body, true).await?;
        let created = self.get_job(&job_id).await?;
        let target = match &created.job {
            Some(job::Job::CompileJob(c)) => c
                .target_model
                .as_ref()
                .and_then(|m| m.model_id.clone())
                .filter(|id| !id.is_empty()),
            _ => None,
        };
        let target_model_id = target.ok_or_else(|| HubError::Protocol {
            route: format!("GET jobs/{job_id}/"),
            reason: "the compile job carries no seeded target_model".into(),
        })?;
        Ok(SubmittedCompile {
            job: SubmittedJob {
                url: self.job_web_url(&job_id),
                job_id,
            },
            target_model_id,
        })
    }

    /// Submits an inference job; with `profile` set this is how AI Hub 0.56 profiles a model.
    pub async fn submit_inference(&self, req: &InferenceRequest) -> Result<SubmittedJob, HubError> {
        let inference = InferenceJob {
            model: Some(Model::reference(req.model_id.clone())),
            device: Some(req.device.clone()),
            name: req.name.clone(),
            options: req.options.trim().to_string(),
            dataset: req.dataset_id.as_ref().map(|id| Dataset {
                dataset_id: Some(id.clone()),
                ..Dataset::default()
            }),
            is_profiling_on: Some(req.profile),
            ..InferenceJob::default()
        };
        let body = Job {
            job: Some(job::Job::InferenceJob(inference)),
            ..Job::default()
        };
        let job_id = self.create_job(body, false).await?;
        Ok(SubmittedJob {
            url: self.job_web_url(&job_id),
            job_id,
        })
    }

    /// Reads a job's current state.
    pub async fn get_job(&self, job_id: &str) -> Result<Job, HubError> {
        let url = self.api_url(&["jobs", job_id], &[])?;
        self.get(url, &format!("job {job_id}")).await
    }

    /// Polls a job until DONE (returns it) or FAILED (an error carrying `failure_reason`).
    pub async fn wait_job(&self, job_id: &str) -> Result<Job, HubError> {
        let poll = self.options.poll;
        let started = Instant::now();
        let mut n = 0u32;
        loop {
            let job = self.get_job(job_id).await?;
            let (state, reason) = job_status(&job);
            tracing::debug!(job_id, ?state, "ai hub job state");
            match state {
                JobState::Done => return Ok(job),
                JobState::Failed => {
                    return Err(HubError::JobFailed {
                        job_id: job_id.to_string(),
                        reason: crate::http::server_text(
                            reason
                                .filter(|r| !r.is_empty())
                                .unwrap_or("no failure reason given"),
                            false,
                        ),
                        failure_type: job.failure_type(),
                        url: self.job_web_url(job_id),
                    });
                }
                _ => {}
            }
            let wait = poll.interval(n);
            if let Some(limit) = poll.timeout
                && started.elapsed() + wait > limit
            {
                return Err(HubError::JobTimeout {
                    job_id: job_id.to_string(),
                    waited_secs: started.elapsed().as_secs(),
                });
            }
            tokio::time::sleep(wait).await;
            n = n.saturating_add(1);
        }
    }

    /// Reads a finished job's result (404 while none exists).
    pub async fn job_result(&self, job_id: &str) -> Result<JobResult, HubError> {
        let url = self.api_url(&["jobs", job_id, "result"], &[])?;
        self.get(url, &format!("result of job {job_id}")).await
    }

    /// Reads an inference or profile job's outputs and measurements.
    pub async fn inference_outcome(&self, job_id: &str) -> Result<InferenceOutcome, HubError> {
        let result = self.job_result(job_id).await?;
        match result.result {
            Some(job_result::Result::InferenceJobResult(r)) => Ok(InferenceOutcome {
                job_id: job_id.to_string(),
                output_dataset_id: Some(r.output_dataset_id).filter(|d| !d.is_empty()),
                profile: r.detail.as_ref().map(ProfileMeasurements::from),
            }),
            Some(job_result::Result::ProfileJobResult(r)) => Ok(InferenceOutcome {
                job_id: job_id.to_string(),
                output_dataset_id: None,
                profile: r.profile.as_ref().map(ProfileMeasurements::from),
            }),
            _ => Err(HubError::Protocol {
                route: format!("GET jobs/{job_id}/result/"),
                reason: "expected an inference job result".into(),
            }),
        }
    }
}

/// The id of a created object, or the failure the server described.
pub(crate) fn created_id(urm: CreateUpdateResponse, route: &str) -> Result<String, HubError> {
    if urm.id.is_empty() {
        let mut reason = if urm.status.is_empty() {
            "the server returned no id".to_string()
        } else {
            urm.status
        };
        if let Some(v) = urm.validation_error {
            for f in v.field_errors {
                reason.push_str(&format!("; {}: {}", f.field, f.messages.join(", ")));
            }
            for m in v.non_field_errors {
                reason.push_str(&format!("; {m}"));
            }
        }
        return Err(HubError::Protocol {
            route: route.to_string(),
            reason: crate::http::server_text(&reason, false),
        });
    }
    Ok(urm.id)
}

#[cfg(test)]
mod tests {
    use super::super::proto::{FieldError, ValidationError};
    use super::*;

    #[test]
    fn status_reads_every_job_kind() {
        let j = Job {
            job: Some(job::Job::InferenceJob(InferenceJob {
                job_state: JobState::Failed as i32,
                failure_reason: Some("device out of memory".into()),
                ..InferenceJob::default()
            })),
            ..Job::default()
        };
        assert_eq!(
            job_status(&j),
            (JobState::Failed, Some("device out of memory"))
        );
        let unknown = Job {
            job: Some(job::Job::CompileJob(CompileJob {
                job_state: 77,
                ..CompileJob::default()
            })),
            ..Job::default()
        };
        assert_eq!(job_status(&unknown).0, JobState::Unspecified);
        assert!(!JobState::Unspecified.is_terminal());
    }

    #[test]
    fn an_empty_id_is_a_failure_with_the_servers_reasons() {
        let urm = CreateUpdateResponse {
            status: "invalid".into(),
            validation_error: Some(ValidationError {
                field_errors: vec![FieldError {
                    field: "name".into(),
                    messages: vec!["too long".into()],
                }],
                non_field_errors: vec!["quota".into()],
            }),
            ..CreateUpdateResponse::default()
        };
        let err = created_id(urm, "POST jobs/").expect_err("empty id fails");
        assert_eq!(
            err.to_string(),
            "unexpected answer from ai hub (POST jobs/): invalid; name: too long; quota"
        );
    }
}
