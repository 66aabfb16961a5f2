//! VOTable metadata, which lives in the `astrolake-vo` crate: the names
//! the store's modules have used, while they move to that crate's paths.

pub use astrolake_vo::field::{unknown_declared_column, votable_type, FieldMeta, TableMeta};

pub mod xml {
    //! VOTable metadata documents and the XML reading helpers
    //! (`astrolake_vo::votable`).
    pub use astrolake_vo::votable::*;
    pub use astrolake_vo::xml::*;
}
