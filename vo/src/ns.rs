//! The XML namespaces (and schema locations) of the documents astrolake
//! writes, declared once.

/// VOTable (unchanged since VOTable 1.3).
pub const VOTABLE: &str = "http://www.ivoa.net/xml/VOTable/v1.3";
/// The schema location of the VOTable version astrolake writes
/// ([`crate::votable::VERSION`]).
pub const VOTABLE_SCHEMA: &str = "http://www.ivoa.net/xml/VOTable/VOTable-1.4.xsd";
/// XML Schema instance.
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// XLink (UWS result links).
pub const XLINK: &str = "http://www.w3.org/1999/xlink";
/// UWS 1.x.
pub const UWS: &str = "http://www.ivoa.net/xml/UWS/v1.0";
/// VOSI availability.
pub const VOSI_AVAILABILITY: &str = "http://www.ivoa.net/xml/VOSIAvailability/v1.0";
/// VOSI capabilities.
pub const VOSI_CAPABILITIES: &str = "http://www.ivoa.net/xml/VOSICapabilities/v1.0";
/// VOSI tables.
pub const VOSI_TABLES: &str = "http://www.ivoa.net/xml/VOSITables/v1.0";
/// VOResource 1.x.
pub const VR: &str = "http://www.ivoa.net/xml/VOResource/v1.0";
/// VODataService 1.x.
pub const VS: &str = "http://www.ivoa.net/xml/VODataService/v1.1";
/// TAPRegExt.
pub const TR: &str = "http://www.ivoa.net/xml/TAPRegExt/v1.0";
/// RegistryInterface.
pub const RI: &str = "http://www.ivoa.net/xml/RegistryInterface/v1.0";
/// VORegistry.
pub const VG: &str = "http://www.ivoa.net/xml/VORegistry/v1.0";
/// The ESA archives' TAP+ attributes (`esatapplus:flags` on `/tables`
/// columns), which astroquery's TapPlus reads.
pub const ESA_TAP_PLUS: &str = "http://esa.int/xml/EsaTapPlus";
/// OAI-PMH 2.0.
pub const OAI: &str = "http://www.openarchives.org/OAI/2.0/";
