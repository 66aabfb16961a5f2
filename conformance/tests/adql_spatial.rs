//! Spatial ADQL answers equal brute-force scans exactly, on real data:
//! cones (random, at the poles, across RA = 0, tiny and large), convex
//! polygons, and the Gaia DR3 bright × Hipparcos 2 positional cross-match.
//! Also checks that the HEALPix cover and the bucketed join were used.

mod common;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Float64Type, Int64Type};
use astrolake_adql::Tables;
use astrolake_catalog::store::Catalog;
use futures::StreamExt;

type V3 = [f64; 3];

fn vec3(ra: f64, dec: f64) -> V3 {
    let (r, d) = (ra.to_radians(), dec.to_radians());
    [d.cos() * r.cos(), d.cos() * r.sin(), d.sin()]
}
fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
/// Angle between two positions in degrees (atan2 of |a×b| and a·b: exact
/// at all scales).
fn sep(a: V3, b: V3) -> f64 {
    let c = cross(a, b);
    dot(c, c).sqrt().atan2(dot(a, b)).to_degrees()
}

async fn collect(adql: &str, tables: &Tables) -> (astrolake_adql::Translated, Vec<RecordBatch>) {
    let (t, mut s) = astrolake_adql::execute(adql, tables)
        .await
        .unwrap_or_else(|e| panic!("{adql}: {e}"));
    let mut out = Vec::new();
    while let Some(b) = s.next().await {
        out.push(b.unwrap());
    }
    (t, out)
}

/// A cover reaches the scan: the covered table's Parquet scan carries a
/// `_healpix_29` range predicate (the provider took the plan's
/// `healpix_cover` filter), so files, row groups and pages outside it are
/// never read.
async fn assert_cover_in_scan(t: &astrolake_adql::Translated, q: &str) {
    let plan = t.dataframe().create_physical_plan().await.unwrap();
    let text = datafusion::physical_plan::displayable(plan.as_ref())
        .indent(false)
        .to_string();
    assert!(
        text.lines()
            .any(|l| l.contains("DataSourceExec") && l.contains("_healpix_29@")),
        "{q}: no cover in the scan:\n{text}"
    );
}

/// (id, position) of every row of a table.
async fn all_rows(tables: &Tables, id: &str, table: &str) -> Vec<(i64, V3, f64, f64)> {
    let (_, batches) = collect(&format!("SELECT {id}, ra, dec FROM {table}"), tables).await;
    let mut out = Vec::new();
    for b in batches {
        let ids = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Int64).unwrap();
        let ids = ids.as_primitive::<Int64Type>();
        let ra = b.column(1).as_primitive::<Float64Type>();
        let dec = b.column(2).as_primitive::<Float64Type>();
        for i in 0..b.num_rows() {
            out.push((
                ids.value(i),
                vec3(ra.value(i), dec.value(i)),
                ra.value(i),
                dec.value(i),
            ));
        }
    }
    out
}

fn ids(batches: &[RecordBatch]) -> Vec<i64> {
    let mut v: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            let c = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Int64).unwrap();
            c.as_primitive::<Int64Type>().values().to_vec()
        })
        .collect();
    v.sort();
    v
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cones_and_polygons_equal_brute_force() {
    let cat = Catalog::open(&common::real_catalog().await).await.unwrap();
    let tables = Tables::from_catalog(&cat);
    let gaia = all_rows(&tables, "source_id", "gaia.gaia_source").await;
    let hip = all_rows(&tables, "hip", "gaia.hip2").await;
    assert_eq!(gaia.len(), 482_106);

    let mut cones: Vec<(f64, f64, f64)> = vec![
        (56.75, 24.12, 1.0),   // Pleiades
        (0.0, 90.0, 3.0),      // north pole
        (123.0, -89.9, 2.0),   // south pole, off-centre
        (359.9, 0.5, 2.0),     // across RA = 0
        (0.05, -30.0, 1.5),    // across RA = 0 from the other side
        (266.4, -29.0, 0.001), // tiny
        (10.0, 10.0, 25.0),    // large
        (180.0, 41.8103, 0.7), // near an order-0 cell corner
    ];
    let mut rng = Lcg(7);
    for _ in 0..12 {
        let ra = rng.next() * 360.0;
        let dec = (rng.next() * 2.0 - 1.0).asin().to_degrees();
        let r = 0.05 + rng.next() * 3.0;
        cones.push((ra, dec, r));
    }
    for (ra, dec, r) in cones {
        let c = vec3(ra, dec);
        for (table, id, rows) in [
            ("gaia.gaia_source", "source_id", &gaia),
            ("gaia.hip2", "hip", &hip),
        ] {
            let mut want: Vec<i64> = rows
                .iter()
                .filter(|(_, p, _, _)| sep(*p, c) <= r)
                .map(|(i, ..)| *i)
                .collect();
            want.sort();
            for q in [
                format!("SELECT {id} FROM {table} WHERE 1=CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra}, {dec}, {r}))"),
                format!("SELECT {id} FROM {table} WHERE DISTANCE(POINT(ra, dec), POINT({ra}, {dec})) <= {r}"),
                format!("SELECT {id} FROM {table} WHERE {r} >= DISTANCE({ra}, {dec}, ra, dec)"),
            ] {
                let (t, batches) = collect(&q, &tables).await;
                assert!(!t.covers.is_empty(), "no cover used: {q}");
                assert_cover_in_scan(&t, &q).await;
                let got = ids(&batches);
                assert_eq!(got.len(), want.len(), "{q}");
                assert_eq!(got, want, "{q}");
            }
        }
    }

    // Convex polygons (either orientation), including one across RA = 0 and
    // one around the south pole.
    let polygons: Vec<Vec<(f64, f64)>> = vec![
        vec![(355.0, -5.0), (5.0, -5.0), (5.0, 5.0), (355.0, 5.0)],
        vec![(50.0, 20.0), (60.0, 20.0), (58.0, 28.0)],
        vec![(0.0, -80.0), (120.0, -80.0), (240.0, -80.0)],
        vec![(240.0, -80.0), (120.0, -80.0), (0.0, -80.0)],
        vec![(200.0, 10.0), (215.0, 12.0), (214.0, 30.0), (201.0, 25.0)],
    ];
    for poly in polygons {
        let mut vs: Vec<V3> = poly.iter().map(|(a, b)| vec3(*a, *b)).collect();
        // The polygon is the smaller region: orient the edges so that the
        // vertex mean is on their left.
        let mean = vs
            .iter()
            .fold([0.0; 3], |m, v| [m[0] + v[0], m[1] + v[1], m[2] + v[2]]);
        if dot(cross(vs[0], vs[1]), mean) < 0.0 {
            vs.reverse();
        }
        let inside =
            |p: V3| (0..vs.len()).all(|i| dot(cross(vs[i], vs[(i + 1) % vs.len()]), p) >= 0.0);
        let coords: Vec<String> = poly.iter().map(|(a, b)| format!("{a}, {b}")).collect();
        let q = format!(
            "SELECT hip FROM gaia.hip2 WHERE 1=CONTAINS(POINT(ra, dec), POLYGON({}))",
            coords.join(", ")
        );
        let mut want: Vec<i64> = hip.iter().filter(|r| inside(r.1)).map(|r| r.0).collect();
        want.sort();
        let (t, batches) = collect(&q, &tables).await;
        assert!(!t.covers.is_empty(), "no cover used: {q}");
        assert_cover_in_scan(&t, &q).await;
        assert!(!want.is_empty());
        assert_eq!(ids(&batches), want, "{q}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn gaia_hipparcos_crossmatch_equals_brute_force() {
    let cat = Catalog::open(&common::real_catalog().await).await.unwrap();
    let tables = Tables::from_catalog(&cat);
    let gaia = all_rows(&tables, "source_id", "gaia.gaia_source").await;
    let mut hip = all_rows(&tables, "hip", "gaia.hip2").await;
    hip.sort_by(|a, b| a.3.total_cmp(&b.3));
    for radius_arcsec in [1.0f64, 5.0] {
        let r = radius_arcsec / 3600.0;
        // Brute force: a declination sweep, then the exact angle.
        let mut pairs = 0u64;
        for (_, p, _, dec) in &gaia {
            let lo = hip.partition_point(|h| h.3 < dec - r - 1e-9);
            for h in &hip[lo..] {
                if h.3 > dec + r + 1e-9 {
                    break;
                }
                if sep(*p, h.1) <= r {
                    pairs += 1;
                }
            }
        }
        assert!(pairs > 1000, "{pairs} pairs");
        for q in [
            format!("SELECT COUNT(*) FROM gaia.gaia_source AS g JOIN gaia.hip2 AS h ON 1 = CONTAINS(POINT('ICRS', g.ra, g.dec), CIRCLE('ICRS', h.ra, h.dec, {radius_arcsec}/3600.0))"),
            format!("SELECT COUNT(*) FROM gaia.gaia_source AS g, gaia.hip2 AS h WHERE DISTANCE(POINT(g.ra, g.dec), POINT(h.ra, h.dec)) <= {r}"),
        ] {
            let (t, batches) = collect(&q, &tables).await;
            assert_eq!(t.positional_joins.len(), 1, "not a bucketed join: {q}");
            let df = t.dataframe();
            let plan = df.create_physical_plan().await.unwrap();
            let shown = datafusion::physical_plan::displayable(plan.as_ref())
                .indent(false)
                .to_string();
            assert!(
                shown.contains("HashJoinExec") && !shown.contains("NestedLoopJoinExec") && !shown.contains("CrossJoinExec"),
                "{q}\n{shown}"
            );
            let n = batches[0].column(0).as_primitive::<Int64Type>().value(0);
            assert_eq!(n as u64, pairs, "{q}");
        }
        eprintln!("{radius_arcsec}\" cross-match: {pairs} pairs, as brute force");
    }
}
