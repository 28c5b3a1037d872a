//! The one sticky comment per pipeline on a PR or MR, whatever the forge: a hidden marker names
//! the pipeline and a second one the CI run that wrote the body; [`upsert`] reads every page of
//! comments, leaves a comment from a newer run alone, and updates or creates the comment within
//! the size limit. GitHub and GitLab only carry requests, through [`CommentThread`]. Must not
//! reach into the renderers' internals or any layer above report.

use async_trait::async_trait;

use crate::report::markdown::{Budget, GITHUB_COMMENT_MAX_CHARS};

/// Most pages of comments read when looking for the marker (100 comments a page).
const MAX_PAGES: u32 = 100;

/// The comments of one PR or MR, as a forge's API serves them: transport only, no decisions.
#[async_trait]
pub trait CommentThread: Send + Sync {
    /// One page of comments, oldest first (pages count from 1).
    async fn list_page(&self, page: u32) -> Result<Page, PublishError>;
    /// Posts a new comment.
    async fn create(&self, body: &str) -> Result<Posted, PublishError>;
    /// Replaces a comment's body.
    async fn update(&self, id: u64, body: &str) -> Result<Posted, PublishError>;
    /// Deletes a duplicate; best effort, a leftover duplicate is harmless.
    async fn delete(&self, id: u64);
}

/// One page of comments and the number of the next page, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// The comments on this page.
    pub comments: Vec<Existing>,
    /// The next page, when the forge says there is one.
    pub next: Option<u32>,
}

/// A comment the forge accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// Its id.
    pub id: u64,
    /// Its web page, when the forge returns one.
    pub url: Option<String>,
}

/// What happened to the sticky comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentOutcome {
    /// A new comment was posted.
    Created { id: u64, url: Option<String> },
    /// The pipeline's comment was updated in place.
    Updated { id: u64, url: Option<String> },
    /// A newer run already wrote the comment; it was left alone.
    Stale { id: u64, newer_run: u64 },
}

/// Why a comment could not be posted; reported as a warning, never a change of the exit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The token may not write (401/403); the message says which permission is missing.
    #[error("{0}")]
    Forbidden(String),
    /// Something needed is not configured (token, repository, PR number).
    #[error("{0}")]
    Setup(String),
    /// The API failed or could not be reached.
    #[error("{0}")]
    Api(String),
}

/// Creates or updates the pipeline's sticky comment with `report` (rendered within [`budget`]).
pub async fn upsert<T: CommentThread + ?Sized>(
    thread: &T,
    pipeline: &str,
    run_id: Option<u64>,
    report: &str,
) -> Result<CommentOutcome, PublishError> {
    let body = compose(pipeline, run_id, report);
    let chars = body.chars().count();
    if chars > GITHUB_COMMENT_MAX_CHARS {
        return Err(PublishError::Setup(format!(
            "no comment posted: the report is {chars} characters, more than the \
             {GITHUB_COMMENT_MAX_CHARS} a comment may have"
        )));
    }
    let mut existing = Vec::new();
    let mut page = 1;
    loop {
        let Page { comments, next } = thread.list_page(page).await?;
        existing.extend(comments);
        match next {
            Some(n) if n > page && n <= MAX_PAGES => page = n,
            _ => break,
        }
    }
    match decide(&existing, pipeline, run_id) {
        Decision::Create => {
            let posted = thread.create(&body).await?;
            Ok(CommentOutcome::Created {
                id: posted.id,
                url: posted.url,
            })
        }
        Decision::Update { id, duplicates } => {
            let posted = thread.update(id, &body).await?;
            for dup in duplicates {
                thread.delete(dup).await;
            }
            Ok(CommentOutcome::Updated {
                id,
                url: posted.url,
            })
        }
        Decision::Stale { id, newer_run } => Ok(CommentOutcome::Stale { id, newer_run }),
    }
}

/// The size a report may have so that, with the markers, the comment stays under the limit.
pub fn budget(pipeline: &str, run_id: Option<u64>) -> Budget {
    Budget::comment(compose(pipeline, run_id, "").chars().count())
}

/// One existing comment or note: its id and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// The comment or note id.
    pub id: u64,
    /// Its body.
    pub body: String,
}

/// What to do with the comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No comment of this pipeline yet.
    Create,
    /// Replace this comment's body; delete the duplicates (left by races or older tools).
    Update { id: u64, duplicates: Vec<u64> },
    /// The comment was written by a newer run; leave it.
    Stale { id: u64, newer_run: u64 },
}

/// The hidden marker of a pipeline: `<!-- edgegate:<pipeline> -->`.
pub fn marker(pipeline: &str) -> String {
    let mut name: String = pipeline
        .chars()
        .filter(|c| !matches!(c, '<' | '>' | '\n' | '\r'))
        .collect();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    format!("<!-- edgegate:{} -->", name.trim())
}

/// The hidden marker of the CI run (pipeline id or run id) that wrote a body.
pub fn run_marker(run_id: u64) -> String {
    format!("<!-- edgegate-run:{run_id} -->")
}

/// The run id recorded in a body, if any.
pub fn run_id_in(body: &str) -> Option<u64> {
    let start = body.find("<!-- edgegate-run:")? + "<!-- edgegate-run:".len();
    let rest = &body[start..];
    let end = rest.find(' ')?;
    rest[..end].parse().ok()
}

/// The full comment body: markers first, then the report.
pub fn compose(pipeline: &str, run_id: Option<u64>, report: &str) -> String {
    let mut body = marker(pipeline);
    if let Some(id) = run_id {
        body.push('\n');
        body.push_str(&run_marker(id));
    }
    body.push('\n');
    body.push_str(report);
    body
}

/// Decides between create, update and leave-alone, given every comment on the PR or MR.
pub fn decide(comments: &[Existing], pipeline: &str, run_id: Option<u64>) -> Decision {
    let marker = marker(pipeline);
    let mine: Vec<&Existing> = comments
        .iter()
        .filter(|c| c.body.contains(&marker))
        .collect();
    let Some(first) = mine.first() else {
        return Decision::Create;
    };
    let newest = mine.iter().filter_map(|c| run_id_in(&c.body)).max();
    if let (Some(new), Some(existing)) = (run_id, newest)
        && existing > new
    {
        return Decision::Stale {
            id: first.id,
            newer_run: existing,
        };
    }
    Decision::Update {
        id: first.id,
        duplicates: mine[1..].iter().map(|c| c.id).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A PR held in memory, served ten comments a page.
    #[derive(Default)]
    struct Thread {
        comments: Mutex<Vec<Existing>>,
        pages_read: Mutex<Vec<u32>>,
    }

    impl Thread {
        fn with(bodies: impl IntoIterator<Item = String>) -> Thread {
            let comments = bodies
                .into_iter()
                .zip(1..)
                .map(|(body, id)| Existing { id, body })
                .collect();
            Thread {
                comments: Mutex::new(comments),
                ..Thread::default()
            }
        }

        fn bodies(&self) -> Vec<(u64, String)> {
            let comments = self.comments.lock().expect("lock");
            comments.iter().map(|c| (c.id, c.body.clone())).collect()
        }
    }

    #[async_trait]
    impl CommentThread for Thread {
        async fn list_page(&self, page: u32) -> Result<Page, PublishError> {
            self.pages_read.lock().expect("lock").push(page);
            let all = self.comments.lock().expect("lock");
            let start = (page as usize - 1) * 10;
            Ok(Page {
                comments: all.iter().skip(start).take(10).cloned().collect(),
                next: (start + 10 < all.len()).then_some(page + 1),
            })
        }

        async fn create(&self, body: &str) -> Result<Posted, PublishError> {
            let mut all = self.comments.lock().expect("lock");
            let id = all.iter().map(|c| c.id).max().unwrap_or(0) + 1;
            all.push(Existing {
                id,
                body: body.into(),
            });
            Ok(Posted { id, url: None })
        }

        async fn update(&self, id: u64, body: &str) -> Result<Posted, PublishError> {
            let mut all = self.comments.lock().expect("lock");
            match all.iter_mut().find(|c| c.id == id) {
                Some(c) => {
                    c.body = body.into();
                    Ok(Posted {
                        id,
                        url: Some(format!("https://forge/c/{id}")),
                    })
                }
                None => Err(PublishError::Api(format!("no comment {id}"))),
            }
        }

        async fn delete(&self, id: u64) {
            self.comments.lock().expect("lock").retain(|c| c.id != id);
        }
    }

    #[tokio::test]
    async fn upsert_finds_the_marker_on_the_last_page_and_never_lets_an_older_run_win() {
        let thread = Thread::with((1..=25).map(|i| format!("comment {i}")));
        let created = upsert(&thread, "p", Some(10), "first").await;
        assert_eq!(created, Ok(CommentOutcome::Created { id: 26, url: None }));
        assert_eq!(*thread.pages_read.lock().expect("lock"), vec![1, 2, 3]);

        let updated = upsert(&thread, "p", Some(11), "second").await;
        assert_eq!(
            updated,
            Ok(CommentOutcome::Updated {
                id: 26,
                url: Some("https://forge/c/26".into())
            })
        );
        let stale = upsert(&thread, "p", Some(9), "older").await;
        assert_eq!(
            stale,
            Ok(CommentOutcome::Stale {
                id: 26,
                newer_run: 11
            })
        );
        let bodies = thread.bodies();
        assert_eq!(bodies.len(), 26);
        assert_eq!(bodies[25].1, compose("p", Some(11), "second"));
    }

    #[tokio::test]
    async fn upsert_keeps_the_first_comment_and_deletes_duplicates() {
        let thread = Thread::with([
            compose("p", Some(1), "a"),
            "other".to_string(),
            compose("p", Some(2), "b"),
        ]);
        let out = upsert(&thread, "p", Some(3), "c").await;
        assert!(matches!(out, Ok(CommentOutcome::Updated { id: 1, .. })));
        assert_eq!(
            thread.bodies(),
            vec![(1, compose("p", Some(3), "c")), (2, "other".to_string())]
        );
    }

    #[tokio::test]
    async fn a_report_over_the_size_limit_is_never_posted() {
        let thread = Thread::default();
        let huge = "x".repeat(GITHUB_COMMENT_MAX_CHARS);
        let out = upsert(&thread, "p", Some(1), &huge).await;
        assert!(matches!(out, Err(PublishError::Setup(m)) if m.contains("characters")));
        assert!(thread.bodies().is_empty());
        assert!(thread.pages_read.lock().expect("lock").is_empty());
    }

    #[test]
    fn the_budget_leaves_room_for_the_markers() {
        let b = budget("p", Some(12345));
        let room = crate::report::markdown::GITHUB_COMMENT_MAX_CHARS - b.max_chars;
        assert!(room > compose("p", Some(12345), "").chars().count());
    }

    fn c(id: u64, body: &str) -> Existing {
        Existing {
            id,
            body: body.into(),
        }
    }

    #[test]
    fn markers_survive_hostile_pipeline_names() {
        assert_eq!(marker("Gate --> x"), "<!-- edgegate:Gate - x -->");
        assert_eq!(run_id_in(&compose("p", Some(42), "hi")), Some(42));
    }

    #[test]
    fn newer_runs_replace_older_ones_but_never_the_reverse() {
        let existing = vec![c(1, "other"), c(2, &compose("p", Some(10), "old"))];
        assert_eq!(
            decide(&existing, "p", Some(11)),
            Decision::Update {
                id: 2,
                duplicates: vec![]
            }
        );
        assert_eq!(
            decide(&existing, "p", Some(10)),
            Decision::Update {
                id: 2,
                duplicates: vec![]
            }
        );
        assert_eq!(
            decide(&existing, "p", Some(9)),
            Decision::Stale {
                id: 2,
                newer_run: 10
            }
        );
        assert_eq!(decide(&existing, "q", Some(9)), Decision::Create);
    }

    #[test]
    fn duplicates_are_reported_for_deletion() {
        let existing = vec![
            c(5, &compose("p", None, "a")),
            c(6, &compose("p", None, "b")),
        ];
        assert_eq!(
            decide(&existing, "p", Some(1)),
            Decision::Update {
                id: 5,
                duplicates: vec![6]
            }
        );
    }
}
