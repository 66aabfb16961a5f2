//! The UWS 1.1 XML documents: a job (`uws:job`), the job list (`uws:jobs`),
//! and a job's parameters (`uws:parameters`) and results (`uws:results`)
//! on their own.
//!
//! Written with quick-xml (which escapes attribute values); text is escaped
//! here, with the characters XML 1.0 cannot carry replaced by U+FFFD and
//! carriage returns written as `&#13;` so they survive parsing. Elements
//! follow the order of the UWS schema; absent values that the schema makes
//! nillable are written as `xsi:nil="true"`. Links (`xlink:href`) are the
//! absolute URLs given by the caller.

use astrolake_vo::ns;
use astrolake_vo::xml::Doc;

use crate::job::{format_time, Job, JobRef};

/// The MIME type of the documents.
pub const XML_MIME: &str = "text/xml; charset=utf-8";

/// Characters that stay as they are in a URL path segment (RFC 3986
/// unreserved); everything else is percent-encoded.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A path segment for a URL.
pub(crate) fn encode_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// The root element of a UWS document, with the namespace declarations
/// and version.
fn root(d: &mut Doc, name: &str) {
    let location = format!("{} {}", ns::UWS, ns::UWS);
    d.start(
        name,
        &[
            ("xmlns:uws", ns::UWS),
            ("xmlns:xlink", ns::XLINK),
            ("xmlns:xsi", ns::XSI),
            ("xsi:schemaLocation", &location),
            ("version", "1.1"),
        ],
    );
}

fn write_parameters(d: &mut Doc, job: &Job, job_url: &str, root: &[(&str, &str)]) {
    d.start("uws:parameters", root);
    for (name, value) in &job.parameters {
        d.elem("uws:parameter", &[("id", name)], value);
    }
    for u in &job.uploads {
        let href = format!("{job_url}/uploads/{}", encode_segment(&u.name));
        d.elem(
            "uws:parameter",
            &[("id", &u.name), ("byReference", "true")],
            &href,
        );
    }
    d.end("uws:parameters");
}

fn write_results(d: &mut Doc, job: &Job, job_url: &str, root: &[(&str, &str)]) {
    if job.results.is_empty() {
        d.empty("uws:results", root);
        return;
    }
    d.start("uws:results", root);
    for r in &job.results {
        let href = format!("{job_url}/results/{}", encode_segment(&r.id));
        let size = r.size.to_string();
        d.empty(
            "uws:result",
            &[
                ("id", &r.id),
                ("xlink:type", "simple"),
                ("xlink:href", &href),
                ("size", &size),
                ("mime-type", &r.mime),
            ],
        );
    }
    d.end("uws:results");
}

/// A document whose root is a fragment of the job document (parameters,
/// results), with the namespace declarations.
fn fragment(write: impl FnOnce(&mut Doc, &[(&str, &str)])) -> String {
    let mut d = Doc::new();
    let location = format!("{} {}", ns::UWS, ns::UWS);
    let attrs = [
        ("xmlns:uws", ns::UWS),
        ("xmlns:xlink", ns::XLINK),
        ("xmlns:xsi", ns::XSI),
        ("xsi:schemaLocation", location.as_str()),
    ];
    write(&mut d, &attrs);
    d.finish()
}

/// The job document (`uws:job`, UWS 1.1) of `job`, whose own URL is
/// `job_url` (absolute; result and upload links are built from it).
pub fn job_document(job: &Job, job_url: &str) -> String {
    let mut d = Doc::new();
    root(&mut d, "uws:job");
    d.elem("uws:jobId", &[], &job.job_id);
    if let Some(r) = &job.run_id {
        d.elem("uws:runId", &[], r);
    }
    d.nillable("uws:ownerId", job.owner.as_deref());
    d.elem("uws:phase", &[], job.phase.as_str());
    d.nillable("uws:quote", job.quote.as_ref().map(format_time).as_deref());
    d.elem("uws:creationTime", &[], &format_time(&job.creation_time));
    d.nillable(
        "uws:startTime",
        job.start_time.as_ref().map(format_time).as_deref(),
    );
    d.nillable(
        "uws:endTime",
        job.end_time.as_ref().map(format_time).as_deref(),
    );
    d.elem(
        "uws:executionDuration",
        &[],
        &job.execution_duration.to_string(),
    );
    d.elem("uws:destruction", &[], &format_time(&job.destruction));
    write_parameters(&mut d, job, job_url, &[]);
    write_results(&mut d, job, job_url, &[]);
    if let Some(e) = &job.error {
        d.start(
            "uws:errorSummary",
            &[
                ("type", e.error_type.as_str()),
                ("hasDetail", if e.has_detail() { "true" } else { "false" }),
            ],
        );
        d.elem("uws:message", &[], &e.message);
        d.end("uws:errorSummary");
    }
    d.end("uws:job");
    d.finish()
}

/// The job list (`uws:jobs`, UWS 1.1): one `uws:jobref` per job, linking
/// to `list_url/ID`.
pub fn job_list(jobs: &[JobRef], list_url: &str) -> String {
    let mut d = Doc::new();
    root(&mut d, "uws:jobs");
    for j in jobs {
        let href = format!("{list_url}/{}", j.job_id);
        d.start(
            "uws:jobref",
            &[
                ("id", &j.job_id),
                ("xlink:type", "simple"),
                ("xlink:href", &href),
            ],
        );
        d.elem("uws:phase", &[], j.phase.as_str());
        if let Some(r) = &j.run_id {
            d.elem("uws:runId", &[], r);
        }
        d.nillable("uws:ownerId", j.owner.as_deref());
        d.elem("uws:creationTime", &[], &format_time(&j.creation_time));
        d.end("uws:jobref");
    }
    d.end("uws:jobs");
    d.finish()
}

/// `job`'s parameters as a document of their own (`uws:parameters`), for
/// `/parameters`.
pub fn parameters_document(job: &Job, job_url: &str) -> String {
    fragment(|d, root| write_parameters(d, job, job_url, root))
}

/// `job`'s results as a document of their own (`uws:results`), for
/// `/results`.
pub fn results_document(job: &Job, job_url: &str) -> String {
    fragment(|d, root| write_results(d, job, job_url, root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        let mut d = Doc::new();
        d.elem("x", &[("a", "1<2\u{1}")], "a<b&c>\n\u{1}");
        let text = d.finish();
        assert!(
            text.contains("<x a=\"1&lt;2\u{FFFD}\">a&lt;b&amp;c&gt;\n\u{FFFD}</x>"),
            "{text}"
        );
        assert_eq!(encode_segment("a b/é"), "a%20b%2F%C3%A9");
    }
}
