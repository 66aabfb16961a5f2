//! Result columns carry the table metadata (unit, UCD, description) through
//! plain column references, aliases and subqueries, and geometry functions
//! their DALI xtype.

mod common;

use astrolake_adql::Tables;
use astrolake_catalog::store::Catalog;

#[tokio::test(flavor = "multi_thread")]
async fn result_columns_carry_units_ucds_and_xtypes() {
    let cat = Catalog::open(&common::real_catalog().await).await.unwrap();
    let tables = Tables::from_catalog(&cat);
    let t = astrolake_adql::plan(
        "SELECT h.ra AS alpha, dec, s.plx, POINT(ra, dec) AS pos, CIRCLE(ra, dec, 1) AS c, \
         DISTANCE(POINT(ra, dec), POINT(0, 0)) AS d, COUNT(*) OVER () IS NULL AS x \
         FROM gaia.hip2 AS h JOIN (SELECT hip, parallax AS plx FROM gaia.hip2) AS s USING (hip)",
        &tables,
    )
    .await;
    // Window functions are not ADQL: the query above must be refused...
    assert!(t.is_err());
    // ...and this one planned.
    let t = astrolake_adql::plan(
        "SELECT h.ra AS alpha, dec, s.plx, POINT(ra, dec) AS pos, CIRCLE(ra, dec, 1) AS c, \
         POLYGON(1, 2, 3, 4, 5, 6) AS poly, DISTANCE(POINT(ra, dec), POINT(0, 0)) AS d, \
         hpmag + 1 AS brighter \
         FROM gaia.hip2 AS h JOIN (SELECT hip, parallax AS plx FROM gaia.hip2) AS s USING (hip)",
        &tables,
    )
    .await
    .unwrap();
    let col = |n: &str| {
        t.columns
            .iter()
            .find(|c| c.name == n)
            .unwrap_or_else(|| panic!("no column {n} in {:?}", t.columns))
    };
    let hip = cat.table("gaia", "hip2").unwrap().meta();
    let ra = hip.field("ra").unwrap();
    assert_eq!(col("alpha").unit.as_deref(), Some("deg"));
    assert_eq!(col("alpha").ucd, ra.ucd);
    assert!(col("alpha")
        .ucd
        .as_deref()
        .unwrap()
        .starts_with("pos.eq.ra"));
    assert_eq!(col("alpha").description, ra.description);
    assert_eq!(col("dec").ucd, hip.field("dec").unwrap().ucd);
    assert_eq!(col("plx").unit.as_deref(), Some("mas"));
    assert_eq!(col("plx").ucd, hip.field("parallax").unwrap().ucd);
    assert_eq!(col("pos").xtype.as_deref(), Some("point"));
    assert_eq!(col("pos").datatype, "double");
    assert_eq!(col("pos").arraysize.as_deref(), Some("*"));
    assert_eq!(col("c").xtype.as_deref(), Some("circle"));
    assert_eq!(col("poly").xtype.as_deref(), Some("polygon"));
    assert_eq!(col("d").unit.as_deref(), Some("deg"));
    // A computed value has no UCD of its own.
    assert_eq!(col("brighter").ucd, None);
}
