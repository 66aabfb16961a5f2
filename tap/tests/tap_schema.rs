//! TAP_SCHEMA describes every catalogue table and itself, and is queryable
//! through ADQL like any table.

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int32Type;
use astrolake_adql::Tables;
use astrolake_catalog::ingest::{ingest_sources, IngestOptions};
use astrolake_catalog::store::Catalog;
use astrolake_catalog::synth::{SynthSource, SynthTable};
use astrolake_catalog::CatalogRoot;
use futures::StreamExt;

async fn rows(adql: &str, tables: &Tables) -> Vec<RecordBatch> {
    let (_, mut s) = astrolake_adql::execute(adql, tables)
        .await
        .unwrap_or_else(|e| panic!("{adql}: {e}"));
    let mut out = Vec::new();
    while let Some(b) = s.next().await {
        out.push(b.unwrap());
    }
    out
}

fn strings(batches: &[RecordBatch], col: usize) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let c = b.column(col).as_string::<i32>();
            (0..b.num_rows())
                .map(|i| c.value(i).to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn tap_schema_describes_the_catalogue_and_itself() {
    let dir = tempfile::tempdir().unwrap();
    let root = CatalogRoot::open(&dir.path().to_string_lossy()).unwrap();
    let o = IngestOptions::new("gaia", "gaia_source");
    ingest_sources(
        &root,
        o,
        SynthSource::openers(SynthTable::GaiaSource, 1, 3000, 1),
        None,
    )
    .await
    .unwrap();
    let cat = Catalog::open(&root).await.unwrap();
    let mut tables = Tables::from_catalog(&cat);
    astrolake_tap::tap_schema::add_to(
        &mut tables,
        &vec![astrolake_tap::tap_schema::SchemaInfo {
            name: "gaia".to_string(),
            description: Some("Synthetic Gaia".to_string()),
            utype: Some("ivo://example.org/std/synth#1".to_string()),
            standard: true,
        }],
        &[],
    );

    // The schema's utype, and std = 1 on the columns of a standard schema.
    let s = rows(
        "SELECT utype, description FROM TAP_SCHEMA.schemas WHERE schema_name = 'gaia'",
        &tables,
    )
    .await;
    assert_eq!(strings(&s, 0), ["ivo://example.org/std/synth#1"]);
    assert_eq!(strings(&s, 1), ["Synthetic Gaia"]);
    let s = rows(
        "SELECT COUNT(*) FROM TAP_SCHEMA.columns WHERE table_name = 'gaia.gaia_source' AND std = 0",
        &tables,
    )
    .await;
    assert_eq!(
        s[0].column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap()
            .value(0),
        0
    );

    let t = rows(
        "SELECT table_name FROM TAP_SCHEMA.tables ORDER BY table_index",
        &tables,
    )
    .await;
    let names = strings(&t, 0);
    assert_eq!(names[0], "gaia.gaia_source");
    for own in ["schemas", "tables", "columns", "keys", "key_columns"] {
        assert!(names.contains(&format!("TAP_SCHEMA.{own}")), "{names:?}");
    }

    let c = rows(
        "SELECT column_name, unit, ucd, indexed, principal, column_index, datatype \
         FROM TAP_SCHEMA.columns WHERE table_name = 'gaia.gaia_source' ORDER BY column_index",
        &tables,
    )
    .await;
    let cols = strings(&c, 0);
    let meta = cat.table("gaia", "gaia_source").unwrap().meta();
    assert_eq!(
        cols,
        meta.fields
            .iter()
            .map(|f| astrolake_adql::check::adql_name(&f.name))
            .collect::<Vec<_>>()
    );
    let ra = cols.iter().position(|c| c == "ra").unwrap();
    let units = strings(&c, 1);
    assert_eq!(units[ra], "deg");
    let indexed: Vec<i32> = c
        .iter()
        .flat_map(|b| b.column(3).as_primitive::<Int32Type>().values().to_vec())
        .collect();
    assert_eq!(indexed[ra], 1, "position columns are indexed");
    let pm = cols.iter().position(|c| c == "pmra").unwrap();
    assert_eq!(indexed[pm], 0);

    // TAP_SCHEMA.columns describes TAP_SCHEMA.columns, "size" included.
    let own = rows(
        "SELECT column_name FROM TAP_SCHEMA.columns WHERE table_name = 'TAP_SCHEMA.columns'",
        &tables,
    )
    .await;
    let own = strings(&own, 0);
    for needed in [
        "column_index",
        "arraysize",
        "xtype",
        "principal",
        "indexed",
        "std",
        "\"size\"",
    ] {
        assert!(own.contains(&needed.to_string()), "{own:?}");
    }
    // Names that are not regular ADQL identifiers are published delimited,
    // as queries must write them, and TAP_SCHEMA declares its own keys.
    let hpx = rows(
        "SELECT column_name FROM TAP_SCHEMA.columns WHERE column_name LIKE '%healpix%'",
        &tables,
    )
    .await;
    assert!(strings(&hpx, 0).iter().all(|n| n == "\"_healpix_29\""));
    let k = rows(
        "SELECT k.from_table, c.from_column, k.target_table, c.target_column \
         FROM TAP_SCHEMA.keys AS k JOIN TAP_SCHEMA.key_columns AS c ON c.key_id = k.key_id \
         WHERE k.from_table = 'TAP_SCHEMA.columns'",
        &tables,
    )
    .await;
    assert_eq!(strings(&k, 2), vec!["TAP_SCHEMA.tables"]);
    assert_eq!(strings(&k, 1), vec!["table_name"]);
    let s = rows(
        "SELECT description FROM TAP_SCHEMA.schemas WHERE schema_name = 'gaia'",
        &tables,
    )
    .await;
    assert_eq!(strings(&s, 0), vec!["Synthetic Gaia"]);
}
