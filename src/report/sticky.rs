//! The sticky comment protocol shared by GitHub and GitLab: a hidden marker names the pipeline,
//! a second one the CI run that wrote the body, so one comment per pipeline is updated in place
//! and a report from an older run never replaces one from a newer run.

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

/// Characters the markers add to a report.
pub fn overhead(pipeline: &str, run_id: Option<u64>) -> usize {
    compose(pipeline, run_id, "").chars().count()
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
