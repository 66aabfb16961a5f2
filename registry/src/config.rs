//! `[registry]`: who publishes, the curation metadata of the records, and
//! where the catalogue's files can be read from outside.

use serde::Deserialize;

/// The registry's configuration (section `[registry]` of the server's
/// TOML file). Every key has a default that makes a valid, if anonymous,
/// registry; a data centre sets at least `authority`, `publisher` and
/// `contact_email`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    /// The naming authority: identifiers are `ivo://AUTHORITY/...`.
    pub authority: String,
    /// Path of the OAI-PMH endpoint on the server.
    pub oai_path: String,
    /// Records per OAI-PMH page; longer lists continue with a resumption
    /// token.
    pub page_size: usize,
    /// Title of the TAP service record (catalogue records take their
    /// titles from the catalogue).
    pub title: String,
    /// Short name (at most 16 characters) of the TAP service.
    pub short_name: String,
    /// Description of the TAP service.
    pub description: String,
    /// The publishing organisation.
    pub publisher: String,
    /// The publisher's own registry identifier, if it has one.
    pub publisher_id: Option<String>,
    /// Creators (people or organisations) of the catalogues.
    pub creators: Vec<String>,
    /// Contact name.
    pub contact_name: String,
    /// Contact e-mail (also the OAI-PMH adminEmail).
    pub contact_email: String,
    /// Subjects (UAT concepts, e.g. `astrometry`, `stellar-astronomy`).
    pub subjects: Vec<String>,
    /// Content levels (`General`, `University`, `Research`, ...).
    pub content_level: Vec<String>,
    /// Rights statement of the data (e.g. `CC-BY 4.0`).
    pub rights: Option<String>,
    /// URI of the licence named by `rights`.
    pub rights_uri: Option<String>,
    /// Wavebands of the catalogues when the catalogue does not say
    /// (`Optical`, `Infrared`, ...).
    pub waveband: Vec<String>,
    /// A web page about the service; default: the TAP service's URL.
    pub reference_url: Option<String>,
    /// Where other sites read the catalogue's files: an object-store URL
    /// (`s3://bucket/prefix`) or an `https://` URL. Default: the
    /// catalogue root itself when it is on S3, else the server's read-only
    /// file endpoint (`/catalogue/` on the server).
    pub catalogue_url: Option<String>,
    /// The S3 endpoint of `catalogue_url` (for stores other than AWS).
    pub catalogue_endpoint: Option<String>,
    /// The S3 region of `catalogue_url`.
    pub catalogue_region: Option<String>,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            authority: "astrolake.localhost".into(),
            oai_path: "/oai".into(),
            page_size: 100,
            title: "astrolake TAP service".into(),
            short_name: "astrolake TAP".into(),
            description: "Table access (TAP 1.1, ADQL 2.1) to the astrolake catalogues: \
                          HEALPix-partitioned Parquet (HATS) with VOTable metadata."
                .into(),
            publisher: "astrolake".into(),
            publisher_id: None,
            creators: Vec::new(),
            contact_name: "astrolake operator".into(),
            // OAI-PMH's emailType wants a dot after the `@`.
            contact_email: "astrolake@localhost.localdomain".into(),
            subjects: vec!["astronomical-databases".into()],
            content_level: vec!["Research".into()],
            rights: None,
            rights_uri: None,
            waveband: Vec::new(),
            reference_url: None,
            catalogue_url: None,
            catalogue_endpoint: None,
            catalogue_region: None,
        }
    }
}

impl RegistryConfig {
    /// Check what the schemas constrain: the authority's syntax, the short
    /// name's length, a non-empty contact address.
    pub fn validate(&self) -> Result<(), String> {
        let ok_char = |c: char| c.is_alphanumeric() || "-_.!~*'()+=".contains(c);
        let a = &self.authority;
        if a.chars().count() < 3
            || !a.chars().next().is_some_and(char::is_alphanumeric)
            || !a.chars().all(ok_char)
        {
            return Err(format!(
                "[registry] authority {a:?} is not an IVOA authority ID: at least 3 \
                 letters, digits or -_.!~*'()+=, starting with a letter or digit"
            ));
        }
        if self.short_name.chars().count() > 16 {
            return Err(format!(
                "[registry] short_name {:?} is longer than 16 characters",
                self.short_name
            ));
        }
        if self.page_size == 0 {
            return Err("[registry] page_size must be at least 1".into());
        }
        if self.contact_email.trim().is_empty() {
            return Err("[registry] contact_email is empty (it is OAI-PMH's adminEmail)".into());
        }
        if !is_oai_email(&self.contact_email) {
            return Err(format!(
                "[registry] contact_email {:?} is not an address OAI-PMH accepts as \
                 adminEmail (name@domain.tld, no spaces, a dot in the domain)",
                self.contact_email
            ));
        }
        if !self.oai_path.starts_with('/') {
            return Err(format!(
                "[registry] oai_path {:?} must start with /",
                self.oai_path
            ));
        }
        Ok(())
    }
}

/// Whether `s` matches OAI-PMH's `emailType` pattern `\S+@(\S+\.)+\S+`:
/// no whitespace, and some `@` after at least one character with, after
/// it, a `.` that is neither the first nor the last character.
fn is_oai_email(s: &str) -> bool {
    if s.is_empty() || s.chars().any(char::is_whitespace) {
        return false;
    }
    s.char_indices().filter(|(_, c)| *c == '@').any(|(i, _)| {
        let rest = &s[i + 1..];
        i > 0
            && rest
                .char_indices()
                .any(|(j, c)| c == '.' && j > 0 && j + 1 < rest.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        RegistryConfig::default().validate().unwrap();
    }

    #[test]
    fn bad_values_are_refused() {
        let mut c = RegistryConfig {
            authority: "a b".into(),
            ..Default::default()
        };
        assert!(c.validate().unwrap_err().contains("authority"));
        c.authority = "org.example".into();
        c.short_name = "a name far too long".into();
        assert!(c.validate().unwrap_err().contains("short_name"));
        c.short_name = "ok".into();
        for bad in [
            "astrolake@localhost",
            "@example.org",
            "a@.org",
            "a@org.",
            "a b@example.org",
        ] {
            c.contact_email = bad.into();
            assert!(c.validate().unwrap_err().contains("adminEmail"), "{bad}");
        }
        for good in ["ops@example.org", "a@b.c", "first.last@sub.example.org"] {
            assert!(is_oai_email(good), "{good}");
        }
    }
}
