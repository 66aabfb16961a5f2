//! The tables of the `rr` schema (RegTAP 1.2 §8–§9, with 1.1's tables
//! unchanged), in the standard's order: names, types, units and
//! descriptions as the standard gives them, and the keys it recommends.

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use astrolake_vo::{FieldMeta, ForeignKey, TableMeta};
use std::sync::Arc;

/// The schema name.
pub const SCHEMA: &str = "rr";

/// The RegTAP data model: its identifier (also the `rr` schema's utype)
/// and the name TAPRegExt's `dataModel` element carries.
pub const DATA_MODEL: (&str, &str) = ("ivo://ivoa.net/std/RegTAP#1.2", "Registry 1.2");

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// ASCII text (identifiers, URLs, vocabulary terms): VOTable `char`.
    Text,
    /// Free text: VOTable `unicodeChar`.
    Unicode,
    /// A small integer (the `*_index` keys, flags): `short`.
    Short,
    /// A real number: `double`.
    Double,
    /// A DALI timestamp `YYYY-MM-DDThh:mm:ss`: `char`, xtype `timestamp`.
    Timestamp,
    /// An ASCII MOC: `char`, xtype `moc`.
    Moc,
}

/// One column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Name.
    pub name: &'static str,
    /// Type.
    pub ty: Ty,
    /// Unit, where the standard prescribes one.
    pub unit: Option<&'static str>,
    /// Description.
    pub description: &'static str,
}

/// One table.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// Name, without the schema.
    pub name: &'static str,
    /// Description.
    pub description: &'static str,
    /// Columns.
    pub columns: &'static [Column],
}

const fn c(name: &'static str, ty: Ty, description: &'static str) -> Column {
    Column {
        name,
        ty,
        unit: None,
        description,
    }
}

const fn cu(name: &'static str, ty: Ty, unit: &'static str, description: &'static str) -> Column {
    Column {
        name,
        ty,
        unit: Some(unit),
        description,
    }
}

use Ty::{Double, Moc, Short, Text, Timestamp, Unicode};

const PARENT: &str = "The parent resource.";

/// Every table, in the standard's order.
pub const TABLES: &[Table] = &[
    Table {
        name: "resource",
        description: "The resources (like services, data collections, organizations) present in this registry.",
        columns: &[
            c("ivoid", Text, "Unambiguous reference to the resource conforming to the IVOA standard for identifiers."),
            c("res_type", Text, "Resource type (something like vg:authority, vs:catalogservice, etc)."),
            c("created", Timestamp, "The UTC date and time this resource metadata description was created."),
            c("short_name", Unicode, "A short name or abbreviation given to something, for presentation in space-constrained fields (up to 16 characters)."),
            c("res_title", Unicode, "The full name given to the resource."),
            c("updated", Timestamp, "The UTC date this resource metadata description was last updated."),
            c("content_level", Text, "A hash-separated list of content levels specifying the intended audience."),
            c("res_description", Unicode, "An account of the nature of the resource."),
            c("reference_url", Text, "URL pointing to a human-readable document describing this resource."),
            c("creator_seq", Unicode, "The creator(s) of the resource in the order given by the resource record author, separated by semicolons."),
            c("content_type", Text, "A hash-separated list of natures or genres of the content of the resource."),
            c("source_format", Text, "The format of source_value. This, in particular, can be \"bibcode\"."),
            c("source_value", Unicode, "A bibliographic reference from which the present resource is derived or extracted."),
            c("res_version", Unicode, "Label associated with creation or availability of a version of a resource."),
            cu("region_of_regard", Double, "deg", "A single numeric value representing the angle, given in decimal degrees, by which a positional query against this resource should be \"blurred\" in order to get an appropriate match."),
            c("waveband", Text, "A hash-separated list of regions of the electro-magnetic spectrum that the resource's spectral coverage overlaps with."),
            c("rights", Unicode, "A statement of usage conditions (license, attribution, embargo, etc)."),
            c("rights_uri", Text, "A URI identifying a license the data is made available under."),
        ],
    },
    Table {
        name: "res_role",
        description: "Entities (persons or organizations) operating on resources: creators, contacts, publishers, contributors.",
        columns: &[
            c("ivoid", Text, PARENT),
            c("role_name", Unicode, "The real-world name or title of a person or organization."),
            c("role_ivoid", Text, "An IVOA identifier of a person or organization."),
            c("street_address", Unicode, "A mailing address for a person or organization."),
            c("email", Text, "An email address the entity can be reached at."),
            c("telephone", Text, "A telephone number the entity can be reached at."),
            c("logo", Text, "URL pointing to a graphical logo, which may be used to help identify the entity."),
            c("base_role", Text, "The role played by this entity; this is one of contact, publisher, contributor, or creator."),
        ],
    },
    Table {
        name: "res_subject",
        description: "Topics, object types, or other descriptive keywords about the resource.",
        columns: &[
            c("ivoid", Text, PARENT),
            c("res_subject", Unicode, "Topics, object types, or other descriptive keywords about the resource."),
        ],
    },
    Table {
        name: "capability",
        description: "Pieces of behaviour of a resource.",
        columns: &[
            c("ivoid", Text, PARENT),
            c("cap_index", Short, "An arbitrary identifier of this capability within the resource."),
            c("cap_type", Text, "The type of capability covered here. If looking for endpoints implementing a certain standard, you should not use this column but rather match against standard_id."),
            c("cap_description", Unicode, "A human-readable description of what this capability provides as part of the over-all service."),
            c("standard_id", Text, "A URI for a standard this capability conforms to."),
        ],
    },
    Table {
        name: "res_schema",
        description: "Sets of tables related to resources.",
        columns: &[
            c("ivoid", Text, PARENT),
            c("schema_index", Short, "An arbitrary identifier for the res_schema rows belonging to a resource."),
            c("schema_description", Unicode, "A free text description of the tableset explaining in general how all of the tables are related."),
            c("schema_name", Text, "A name for the set of tables."),
            c("schema_title", Unicode, "A descriptive, human-interpretable name for the table set."),
            c("schema_utype", Text, "An identifier for a concept in a data model that the data in this schema as a whole represent."),
        ],
    },
    Table {
        name: "res_table",
        description: "(Relational) tables that are part of schemata or resources.",
        columns: &[
            c("ivoid", Text, PARENT),
            c("schema_index", Short, "Index of the schema this table belongs to, if it belongs to a schema (otherwise NULL)."),
            c("table_description", Unicode, "A free-text description of the table's contents."),
            c("table_name", Unicode, "The fully qualified name of the table. This name should include all catalog or schema prefixes needed to sufficiently uniquely distinguish it in a query."),
            c("table_index", Short, "An arbitrary identifier for the tables belonging to a resource."),
            c("table_title", Unicode, "A descriptive, human-interpretable name for the table."),
            c("table_type", Text, "A name for the role this table plays. Recognized values include \"output\", \"base_table\" and \"view\"."),
            c("table_utype", Text, "An identifier for a concept in a data model that the data in this table as a whole represent."),
        ],
    },
    Table {
        name: "table_column",
        description: "Metadata on columns of a resource's tables.",
        columns: &[
            c("ivoid", Text, PARENT),
            c("table_index", Short, "Index of the table this column belongs to."),
            c("name", Unicode, "The name of the column."),
            c("ucd", Text, "A unified content descriptor that describes the scientific content of the column."),
            c("unit", Unicode, "The unit associated with all values in the column."),
            c("utype", Text, "An identifier for a role in a data model that the data in this column represents."),
            c("std", Short, "If 1, the meaning and use of this column is reserved and defined by a standard model. If 0, it represents a database-specific column that effectively extends beyond the standard."),
            c("datatype", Text, "The type of the data contained in the column."),
            c("extended_schema", Text, "An identifier for the schema that the value given by the extended attribute is drawn from."),
            c("extended_type", Text, "A custom type for the values this column contains."),
            c("arraysize", Text, "The shape of the array that constitutes the value, e.g., 4, *, 4*, 5x4, or 5x*, as specified by VOTable."),
            c("delim", Text, "The string that is used to delimit elements of an array value when arraysize is not '1'."),
            c("type_system", Text, "The type system used, as a QName with a canonical prefix; this will usually be one of vs:simpledatatype, vs:votabletype, and vs:taptype."),
            c("flag", Text, "Hash-separated keywords representing traits of the column. Recognized values include \"indexed\", \"primary\", and \"nullable\"."),
            c("column_description", Unicode, "A free-text description of the column's contents."),
        ],
    },
    Table {
        name: "interface",
        description: "Information on access modes of a capability.",
        columns: &[
            c("ivoid", Text, PARENT),
            c("cap_index", Short, "The index of the parent capability."),
            c("intf_index", Short, "An arbitrary identifier for the interfaces of a resource."),
            c("intf_type", Text, "The type of the interface (vr:webbrowser, vs:paramhttp, etc)."),
            c("intf_role", Text, "An identifier for the role the interface plays in the particular capability. If the value is equal to \"std\" or begins with \"std:\", then the interface refers to a standard interface defined by the standard referred to by the capability's standardID attribute."),
            c("std_version", Text, "The version of a standard interface specification that this interface complies with."),
            c("query_type", Text, "Hash-joined list of expected HTTP method (get or post) supported by the service."),
            c("result_type", Text, "The MIME type of a document returned in the HTTP response."),
            c("wsdl_url", Text, "The location of the WSDL that describes this Web Service. If NULL, the location can be assumed to be the accessURL with '?wsdl' appended."),
            c("url_use", Text, "A flag indicating whether this should be interpreted as a base URL ('base'), a full URL ('full'), or a URL to a directory that will produce a listing of files ('dir')."),
            c("access_url", Text, "The URL at which the interface is found."),
            c("mirror_url", Text, "Secondary access URLs of this interface, separated by hash characters."),
            c("authenticated_only", Short, "A flag for whether an interface is available for anonymous use (=0) or only authenticated clients are served (=1)."),
        ],
    },
    Table {
        name: "intf_param",
        description: "Input parameters for services.",
        columns: &[
            c("ivoid", Text, PARENT),
            c("intf_index", Short, "The index of the interface this parameter belongs to."),
            c("name", Unicode, "The name of the parameter."),
            c("ucd", Text, "A unified content descriptor that describes the scientific content of the parameter."),
            c("unit", Unicode, "The unit associated with all values in the parameter."),
            c("utype", Text, "An identifier for a role in a data model that the data in this parameter represents."),
            c("std", Short, "If 1, the meaning and use of this parameter is reserved and defined by a standard model. If 0, it represents a database-specific parameter that effectively extends beyond the standard."),
            c("datatype", Text, "The type of the data contained in the parameter."),
            c("extended_schema", Text, "An identifier for the schema that the value given by the extended attribute is drawn from."),
            c("extended_type", Text, "A custom type for the values this parameter contains."),
            c("arraysize", Text, "The shape of the array that constitutes the value, e.g., 4, *, 4*, 5x4, or 5x*, as specified by VOTable."),
            c("delim", Text, "The string that is used to delimit elements of an array value when arraysize is not '1'."),
            c("param_use", Text, "An indication of whether this parameter is required to be provided for the application or service to work properly (one of required, optional, ignored, or NULL)."),
            c("param_description", Unicode, "A free-text description of the parameter's contents."),
        ],
    },
    Table {
        name: "relationship",
        description: "Relationships between resources (like mirroring, derivation, serving a data collection).",
        columns: &[
            c("ivoid", Text, PARENT),
            c("relationship_type", Text, "The type of the relationship; these terms are drawn from a controlled vocabulary and are DataCite-compatible."),
            c("related_id", Text, "The IVOA identifier for the resource referred to."),
            c("related_name", Unicode, "The name of resource that this resource is related to."),
        ],
    },
    Table {
        name: "validation",
        description: "Validation levels for resources and capabilities.",
        columns: &[
            c("ivoid", Text, PARENT),
            c("validated_by", Text, "The IVOA ID of the registry or organisation that assigned the validation level."),
            c("val_level", Short, "A numeric grade describing the quality of the resource description, when applicable, to be used to indicate the confidence an end-user can put in the resource as part of a VO application or research study."),
            c("cap_index", Short, "If non-NULL, the validation only refers to the capability referenced here."),
        ],
    },
    Table {
        name: "res_date",
        description: "A date associated with an event in the life cycle of the resource.",
        columns: &[
            c("ivoid", Text, PARENT),
            c("date_value", Timestamp, "A date associated with an event in the life cycle of the resource."),
            c("value_role", Text, "A string indicating what the date refers to, e.g., created, availability, updated. This value is generally drawn from a controlled vocabulary."),
        ],
    },
    Table {
        name: "res_detail",
        description: "XPath-value pairs for members of resource or capability and their derivations that are less used and/or from VOResource extensions.",
        columns: &[
            c("ivoid", Text, PARENT),
            c("cap_index", Short, "The index of the parent capability; if NULL the xpath-value pair describes a member of the entire resource."),
            c("detail_xpath", Text, "The xpath of the data item."),
            c("detail_value", Unicode, "(Atomic) value of the member."),
        ],
    },
    Table {
        name: "alt_identifier",
        description: "An alternate identifier associated with this record.",
        columns: &[
            c("ivoid", Text, PARENT),
            c("alt_identifier", Text, "An identifier for the resource or an entity related to the resource in URI form."),
        ],
    },
    Table {
        name: "stc_spatial",
        description: "The spatial coverage of resources.",
        columns: &[
            c("ivoid", Text, PARENT),
            c("coverage", Moc, "A geometry representing the area a resource contains data for; this should be tight at least with a resolution of degrees."),
            c("ref_system_name", Text, "The reference frame coverage is written in. This is currently reserved and fixed to NULL."),
        ],
    },
    Table {
        name: "stc_temporal",
        description: "The temporal coverage of resources, given as one or more intervals.",
        columns: &[
            c("ivoid", Text, PARENT),
            cu("time_start", Double, "d", "Lower limit of a time interval covered by the resource in MJD."),
            cu("time_end", Double, "d", "Upper limit of a time interval covered by the resource in MJD."),
        ],
    },
    Table {
        name: "stc_spectral",
        description: "The spectral coverage of resources, given as one or more intervals.",
        columns: &[
            c("ivoid", Text, PARENT),
            cu("spectral_start", Double, "J", "Lower limit (in Joules) of messenger energy interval covered by the resource (for the solar system barycenter)."),
            cu("spectral_end", Double, "J", "Upper limit (in Joules) of messenger energy interval covered by the resource (for the solar system barycenter)."),
        ],
    },
    Table {
        name: "tap_table",
        description: "TAP-queriable tables: every table of a TAP service's tableset, and the tables of resources served by one, with the resource they were taken from.",
        columns: &[
            c("resid", Text, "IVOA identifier of the resource this table was taken from (where there is a dedicated resource containing this table in its tableset, that resource is preferred over a TAP service)."),
            c("svcid", Text, "IVOA identifier of the TAP service making this table queriable."),
            c("table_name", Unicode, "The fully qualified name of the table."),
            c("table_title", Unicode, "A descriptive, human-interpretable name for the table."),
            c("table_description", Unicode, "A free-text description of the table's contents."),
            c("table_utype", Text, "An identifier for a concept in a data model that the data in this table as a whole represent."),
        ],
    },
];

/// The table called `name`.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

impl Table {
    /// `rr.name`.
    pub fn qualified(&self) -> String {
        format!("{SCHEMA}.{}", self.name)
    }

    /// The Arrow schema of its rows.
    pub fn arrow_schema(&self) -> SchemaRef {
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| {
                let dt = match c.ty {
                    Ty::Short => DataType::Int16,
                    Ty::Double => DataType::Float64,
                    _ => DataType::Utf8,
                };
                Field::new(c.name, dt, true)
            })
            .collect();
        Arc::new(Schema::new(fields))
    }

    /// Its VO metadata (for TAP_SCHEMA, `/tables` and results).
    pub fn meta(&self) -> TableMeta {
        let fields = self
            .columns
            .iter()
            .map(|c| {
                let (datatype, arraysize, xtype) = match c.ty {
                    Ty::Text => ("char", Some("*"), None),
                    Ty::Unicode => ("unicodeChar", Some("*"), None),
                    Ty::Short => ("short", None, None),
                    Ty::Double => ("double", None, None),
                    Ty::Timestamp => ("char", Some("*"), Some("timestamp")),
                    Ty::Moc => ("char", Some("*"), Some("moc")),
                };
                FieldMeta {
                    name: c.name.to_string(),
                    datatype: datatype.to_string(),
                    arraysize: arraysize.map(str::to_string),
                    unit: c.unit.map(str::to_string),
                    ucd: None,
                    utype: None,
                    xtype: xtype.map(str::to_string),
                    description: Some(c.description.to_string()),
                    null: None,
                }
            })
            .collect();
        TableMeta {
            name: self.qualified(),
            description: Some(self.description.to_string()),
            fields,
        }
    }
}

/// The foreign keys the standard recommends (§5 of its tables): every
/// table's `ivoid` into `resource`, interfaces into capabilities,
/// parameters into interfaces, columns into tables.
pub fn foreign_keys() -> Vec<ForeignKey> {
    let q = |t: &str| format!("{SCHEMA}.{t}");
    let ivoid = || vec![("ivoid".to_string(), "ivoid".to_string())];
    let pair = |k: &str| {
        vec![
            ("ivoid".to_string(), "ivoid".to_string()),
            (k.to_string(), k.to_string()),
        ]
    };
    let mut keys: Vec<ForeignKey> = [
        "res_role",
        "res_subject",
        "capability",
        "res_schema",
        "res_table",
        "relationship",
        "validation",
        "res_date",
        "res_detail",
        "alt_identifier",
        "stc_spatial",
        "stc_temporal",
        "stc_spectral",
    ]
    .iter()
    .map(|t| (q(t), q("resource"), ivoid()))
    .collect();
    keys.push((q("interface"), q("capability"), pair("cap_index")));
    keys.push((q("intf_param"), q("interface"), pair("intf_index")));
    keys.push((q("table_column"), q("res_table"), pair("table_index")));
    keys
}
