//! `/availability`: the VOSIAvailability document.

use astrolake_vo::ns;
use astrolake_vo::xml::Doc;

/// The VOSI 1.1 availability document (`<vosi:availability>`).
///
/// `up_since` is the instant the service last became available, as an XML
/// Schema `dateTime` (e.g. `2025-01-31T12:00:00Z`); `note` is free text
/// (e.g. why the service is down).
pub fn availability(available: bool, up_since: Option<&str>, note: Option<&str>) -> String {
    let mut d = Doc::new();
    d.start(
        "vosi:availability",
        &[("xmlns:vosi", ns::VOSI_AVAILABILITY)],
    );
    d.elem(
        "vosi:available",
        &[],
        if available { "true" } else { "false" },
    );
    if let Some(t) = up_since.filter(|t| !t.trim().is_empty()) {
        d.elem("vosi:upSince", &[], t.trim());
    }
    if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
        d.elem("vosi:note", &[], n);
    }
    d.end("vosi:availability");
    d.finish()
}
