//! Renders every report of a run and publishes it: JUnit and Markdown files, the GitHub job
//! summary, the sticky PR/MR comment. `edgegate report` and `edgegate run` both call
//! [`render_and_publish`]; a publishing failure is a warning and never changes the verdict.
//! Picks the forge and the PR from `crate::ci`; must not reach into devices, the engine or
//! commands, nor speak a forge's API itself (`github`, `gitlab` do, through `sticky`).

use std::path::{Path, PathBuf};

use crate::ci::CiEnv;
use crate::config::types::CommentMode;
use crate::report::error::ReportError;
use crate::report::github::{self, GithubTarget, PullRequest};
use crate::report::gitlab::{GitlabTarget, MergeRequest};
use crate::report::junit;
use crate::report::markdown::{self, Budget, MarkdownOptions};
use crate::report::sticky::{self, CommentOutcome, CommentThread, PublishError};
use crate::results::{RESULTS_VERSION, Results};

/// What to render and where to publish it.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Write JUnit XML here.
    pub junit: Option<PathBuf>,
    /// Write the full (never truncated) Markdown report here.
    pub markdown: Option<PathBuf>,
    /// Post the sticky PR/MR comment: auto, github, gitlab or off.
    pub comment: CommentMode,
    /// A minijinja template replacing the shipped one.
    pub template: Option<PathBuf>,
    /// The PR number (GitHub) or MR iid (GitLab), overriding the CI environment and the results.
    pub pr: Option<u64>,
    /// The results file the report came from, named in the truncation note.
    pub results_path: Option<PathBuf>,
    /// Do not write `$GITHUB_STEP_SUMMARY` even when it is set.
    pub no_step_summary: bool,
    /// The CI environment (`CiEnv::from_env()` in the binary).
    pub env: CiEnv,
    /// When posting the comment must be over (`--timeout`); `None` relies on per-request limits.
    pub deadline: Option<crate::http::Deadline>,
}

/// What was written and posted.
#[derive(Debug, Clone, Default)]
pub struct ReportOutcome {
    /// Files written (JUnit, Markdown, the step summary).
    pub written: Vec<PathBuf>,
    /// Where the comment went and what happened to it.
    pub comment: Option<(String, CommentOutcome)>,
    /// True when the comment body was cut to fit the size limit.
    pub comment_truncated: bool,
    /// Things that did not work but do not change the verdict.
    pub warnings: Vec<String>,
}

/// Reads and checks a results file.
pub fn load_results(path: &Path) -> Result<Results, ReportError> {
    let text = crate::files::read_to_string(path, "results file", crate::files::RESULTS_LIMIT)
        .map_err(ReportError::ReadResults)?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| ReportError::ParseResults {
            path: path.to_path_buf(),
            source,
        })?;
    if let Some(found) = value.get("results_version").and_then(|v| v.as_u64())
        && found != u64::from(RESULTS_VERSION)
    {
        return Err(ReportError::ResultsVersion {
            path: path.to_path_buf(),
            found: u32::try_from(found).unwrap_or(u32::MAX),
            expected: RESULTS_VERSION,
        });
    }
    serde_json::from_value(value).map_err(|source| ReportError::ParseResults {
        path: path.to_path_buf(),
        source,
    })
}

/// Renders the JUnit and Markdown reports, writes the job summary and upserts the PR/MR comment.
pub async fn render_and_publish(
    results: &Results,
    opts: &ReportOptions,
) -> Result<ReportOutcome, ReportError> {
    let mut out = ReportOutcome::default();
    let template = match &opts.template {
        Some(path) => Some(
            crate::files::read_to_string(path, "template", crate::files::TEMPLATE_LIMIT)
                .map_err(ReportError::ReadTemplate)?,
        ),
        None => None,
    };
    if let Some(source) = &template {
        markdown::check_template(source)?;
    }
    let full_report = full_report_note(results, opts);
    let md = |budget| MarkdownOptions {
        template: template.as_deref(),
        budget,
        full_report: full_report.clone(),
    };

    if let Some(path) = &opts.junit {
        write(path, &junit::render(results)?)?;
        out.written.push(path.clone());
    }
    if let Some(path) = &opts.markdown {
        write(path, &markdown::render(results, &md(None))?.body)?;
        out.written.push(path.clone());
    }
    if !opts.no_step_summary
        && let Some(path) = opts.env.get("GITHUB_STEP_SUMMARY")
    {
        let rendered = markdown::render(results, &md(Some(Budget::step_summary())))?;
        let path = PathBuf::from(path);
        match github::append_step_summary(&path, &rendered.body) {
            Ok(()) => out.written.push(path),
            Err(e) => out.warnings.push(format!(
                "could not write the job summary {}: {e}",
                path.display()
            )),
        }
    }

    let run_id = run_id(results, &opts.env);
    match comment_target(results, opts) {
        Ok(None) => {}
        Ok(Some(target)) => {
            let budget = sticky::budget(&results.pipeline, run_id);
            let rendered = markdown::render(results, &md(Some(budget)))?;
            out.comment_truncated = rendered.truncated;
            let place = target.place();
            let post = async {
                match target.thread() {
                    Ok(thread) => {
                        sticky::upsert(thread.as_ref(), &results.pipeline, run_id, &rendered.body)
                            .await
                    }
                    Err(e) => Err(e),
                }
            };
            let posted = match opts.deadline {
                Some(d) => tokio::time::timeout(d.remaining(), post)
                    .await
                    .unwrap_or_else(|_| {
                        Err(PublishError::Api(format!(
                            "no comment posted on {place}: stopped at the {d}"
                        )))
                    }),
                None => post.await,
            };
            match posted {
                Ok(outcome) => out.comment = Some((place, outcome)),
                Err(e) => out.warnings.push(e.to_string()),
            }
        }
        Err(e) => out.warnings.push(e.to_string()),
    }
    Ok(out)
}

enum Target {
    Github(GithubTarget),
    Gitlab(GitlabTarget),
}

impl Target {
    /// Where the comment goes, in words (`acme/vision PR #7`).
    fn place(&self) -> String {
        match self {
            Target::Github(t) => format!("{} PR #{}", t.repository, t.pr),
            Target::Gitlab(t) => format!("merge request !{}", t.mr_iid),
        }
    }

    /// The forge's comments of the PR or MR.
    fn thread(&self) -> Result<Box<dyn CommentThread>, PublishError> {
        Ok(match self {
            Target::Github(t) => Box::new(PullRequest::connect(t)?),
            Target::Gitlab(t) => Box::new(MergeRequest::connect(t)?),
        })
    }
}

/// Why no MR note: the usual cause is a protected variable, which GitLab passes only to
/// pipelines of protected branches, never to a merge request pipeline of a feature branch.
const GITLAB_TOKEN_MISSING: &str = "no note posted: GITLAB_TOKEN is not set in this merge \
    request pipeline; if it is defined as a CI/CD variable, untick \"Protect variable\" \
    (protected variables only reach pipelines of protected branches) — keep \"Mask variable\" \
    on. It must be a project access token with the `api` scope and the Reporter role or higher; \
    CI_JOB_TOKEN cannot write merge request notes";

fn comment_target(results: &Results, opts: &ReportOptions) -> Result<Option<Target>, PublishError> {
    let env = &opts.env;
    let ci = results.ci.as_ref();
    let github_pr = || {
        opts.pr
            .or_else(|| env.github_pr_number())
            .or_else(|| ci.and_then(|c| c.pr_number))
    };
    let gitlab_mr = || {
        opts.pr
            .or_else(|| env.gitlab_mr_iid())
            .or_else(|| ci.and_then(|c| c.mr_iid))
    };
    let mode = match opts.comment {
        CommentMode::Off => return Ok(None),
        CommentMode::Auto if env.is_github() && github_pr().is_some() => CommentMode::Github,
        CommentMode::Auto if env.is_gitlab() && gitlab_mr().is_some() => CommentMode::Gitlab,
        CommentMode::Auto => return Ok(None),
        explicit => explicit,
    };
    let need = |key: &str, why: &str| {
        env.get(key).map(String::from).ok_or_else(|| {
            PublishError::Setup(format!("no comment posted: {key} is not set ({why})"))
        })
    };
    if mode == CommentMode::Github {
        if opts.pr.is_none()
            && env.github_pr_number().is_none()
            && env.get("GITHUB_EVENT_NAME") == Some("workflow_run")
            && github_pr().is_some()
        {
            return Err(PublishError::Setup(
                "no comment posted: in a workflow_run job the PR number would come from the \
                 results file, which the PR's own run wrote; check it against the run's head \
                 commit and pass --pr (see examples/github/edgegate-fork-report.yml)"
                    .into(),
            ));
        }
        let pr = github_pr().ok_or_else(|| {
            PublishError::Setup(
                "no comment posted: no pull request number (not a pull_request event; pass --pr)"
                    .into(),
            )
        })?;
        Ok(Some(Target::Github(GithubTarget {
            api_url: env
                .get("GITHUB_API_URL")
                .unwrap_or(github::DEFAULT_API_URL)
                .to_string(),
            token: need(
                "GITHUB_TOKEN",
                "pass `env: GITHUB_TOKEN: ${{ github.token }}`",
            )?,
            repository: need("GITHUB_REPOSITORY", "the `owner/repo` to comment on")?,
            pr,
        })))
    } else {
        let mr_iid = gitlab_mr().ok_or_else(|| {
            PublishError::Setup(
                "no note posted: no merge request iid (not a merge request pipeline; pass --pr)"
                    .into(),
            )
        })?;
        Ok(Some(Target::Gitlab(GitlabTarget {
            api_url: need("CI_API_V4_URL", "the GitLab API base URL")?,
            token: env
                .get("GITLAB_TOKEN")
                .map(String::from)
                .ok_or_else(|| PublishError::Setup(GITLAB_TOKEN_MISSING.into()))?,
            project: env
                .get("CI_PROJECT_ID")
                .map(String::from)
                .or_else(|| ci.and_then(|c| c.project_id.clone()))
                .ok_or_else(|| {
                    PublishError::Setup("no note posted: CI_PROJECT_ID is not set".into())
                })?,
            mr_iid,
        })))
    }
}

/// The id ordering sticky comments: the run that produced the results, else this CI run.
fn run_id(results: &Results, env: &CiEnv) -> Option<u64> {
    results
        .ci
        .as_ref()
        .and_then(|c| c.pipeline_id)
        .or_else(|| env.get("CI_PIPELINE_ID").and_then(|v| v.parse().ok()))
        .or_else(|| env.get("GITHUB_RUN_ID").and_then(|v| v.parse().ok()))
}

fn full_report_note(results: &Results, opts: &ReportOptions) -> String {
    let mut files: Vec<String> = Vec::new();
    if let Some(p) = &opts.markdown {
        files.push(format!("`{}`", file_name(p)));
    }
    files.push(format!(
        "`{}`",
        opts.results_path
            .as_deref()
            .map(file_name)
            .unwrap_or_else(|| "edgegate-results.json".into())
    ));
    let place = match results.ci.as_ref().and_then(|c| c.run_url.as_deref()) {
        Some(url) => format!("the artifacts of [the CI run]({url})"),
        None => "the CI run's artifacts".into(),
    };
    format!("The full report is {} in {place}.", files.join(" and "))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

fn write(path: &Path, text: &str) -> Result<(), ReportError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| ReportError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, text).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results_with_pr(pr: u64) -> Results {
        let text = include_str!("../../tests/fixtures/results/failing.json");
        let mut r: Results = serde_json::from_str(text).expect("fixture");
        if let Some(ci) = r.ci.as_mut() {
            ci.pr_number = Some(pr);
        }
        r
    }

    fn opts(pairs: &[(&str, &str)], pr: Option<u64>) -> ReportOptions {
        ReportOptions {
            comment: CommentMode::Github,
            pr,
            env: CiEnv::from_pairs(pairs.iter().copied()),
            ..ReportOptions::default()
        }
    }

    #[test]
    fn a_workflow_run_never_trusts_the_pr_number_of_the_results_file() {
        let env = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_NAME", "workflow_run"),
            ("GITHUB_TOKEN", "t"),
            ("GITHUB_REPOSITORY", "acme/vision"),
        ];
        let r = results_with_pr(99);
        let refused = comment_target(&r, &opts(&env, None));
        assert!(matches!(refused, Err(PublishError::Setup(m)) if m.contains("pass --pr")));
        match comment_target(&r, &opts(&env, Some(7))) {
            Ok(Some(Target::Github(t))) => assert_eq!(t.pr, 7),
            _ => panic!("--pr is used"),
        }
    }

    #[test]
    fn a_missing_gitlab_token_names_the_protect_variable_flag() {
        let env = [
            ("GITLAB_CI", "true"),
            ("CI_API_V4_URL", "https://gitlab.example.com/api/v4"),
            ("CI_PROJECT_ID", "42"),
            ("CI_MERGE_REQUEST_IID", "7"),
        ];
        for comment in [CommentMode::Auto, CommentMode::Gitlab] {
            let mut o = opts(&env, None);
            o.comment = comment;
            let Err(PublishError::Setup(m)) = comment_target(&results_with_pr(7), &o) else {
                panic!("{comment:?}: a missing GITLAB_TOKEN is a setup warning");
            };
            assert!(
                m.starts_with(
                    "no note posted: GITLAB_TOKEN is not set in this merge request pipeline"
                ),
                "{m}"
            );
            assert!(m.contains("untick \"Protect variable\""), "{m}");
            assert!(
                m.contains("protected variables only reach pipelines of protected branches"),
                "{m}"
            );
            assert!(m.contains("keep \"Mask variable\" on"), "{m}");
            assert!(m.contains("`api` scope"), "{m}");
        }
        let mut with_token = env.to_vec();
        with_token.push(("GITLAB_TOKEN", "glpat-x"));
        let mut o = opts(&with_token, None);
        o.comment = CommentMode::Gitlab;
        match comment_target(&results_with_pr(7), &o) {
            Ok(Some(Target::Gitlab(t))) => assert_eq!(t.mr_iid, 7),
            _ => panic!("the token is used"),
        }
    }

    #[test]
    fn auto_comments_only_where_a_pr_or_mr_is_known() {
        let r = results_with_pr(7);
        let mut o = opts(&[("GITLAB_CI", "true")], None);
        o.comment = CommentMode::Auto;
        assert!(matches!(comment_target(&r, &o), Ok(None)));
        let mut o = opts(&[], None);
        o.comment = CommentMode::Auto;
        assert!(matches!(comment_target(&r, &o), Ok(None)));
    }
}
