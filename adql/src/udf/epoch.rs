//! Epoch propagation kernels: `ivo_epoch_prop` and `ivo_epoch_prop_pos`.

use arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;

use crate::geometry;

use super::columns::{all_finite, f64_cols, GeomOut};
use crate::functions::Func;

// ---------------------------------------------------------------------------
// Epoch propagation.

/// `ivo_epoch_prop(ra, dec, parallax, pmra, pmdec, radial_velocity,
/// ref_epoch, out_epoch)` (degrees, mas, mas/yr, km/s, Julian years): NULL
/// position or epochs give NULL; NULL proper motions and radial velocity are
/// 0 and a NULL parallax is treated as tiny, as DaCHS does (see
/// [`geometry::epoch_prop`]); the parallax and radial velocity items of the
/// result are then NULL.
pub(super) fn epoch_prop(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [ra, dec, plx, pmra, pmdec, rv, ep0, ep1] = f64_cols::<8>(a)?;
    let mut out = GeomOut::new(n);
    for i in 0..n {
        let (Some(x), Some(y), Some(t0), Some(t1)) =
            (ra.get(i), dec.get(i), ep0.get(i), ep1.get(i))
        else {
            out.null();
            continue;
        };
        if !all_finite(&[x, y, t0, t1]) {
            out.null();
            continue;
        }
        let r = geometry::epoch_prop(
            x,
            y,
            plx.get(i),
            pmra.get(i),
            pmdec.get(i),
            rv.get(i),
            t1 - t0,
        );
        if f == Func::EpochPropPos {
            out.push(&[r.ra, r.dec]);
        } else {
            let v = out.0.values();
            v.append_value(r.ra);
            v.append_value(r.dec);
            v.append_option(r.parallax);
            v.append_value(r.pmra);
            v.append_value(r.pmdec);
            v.append_option(r.radial_velocity);
            out.0.append(true);
        }
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use crate::udf::testutil::*;

    #[tokio::test]
    async fn epoch_propagation() {
        let v = list_of(
            &one("SELECT ivo_epoch_prop(7.606083572, 11.79044105, 125, 300, -428.8, 52.51, 2016, 1992.25)")
                .await,
        )
        .unwrap();
        let want = [
            7.6040614046279735,
            11.793270382827929,
            125.01993165584682,
            300.09877325973605,
            -428.934593565712,
            52.50880381775256,
        ];
        for (a, b) in v.iter().zip(want) {
            assert!(near(a.unwrap(), b, 1e-6), "{v:?}");
        }
        let v = list_of(
            &one("SELECT ivo_epoch_prop(7.606083572, 11.79044105, NULL, 300, -428.8, 52.51, 2016, 1992.25)")
                .await,
        )
        .unwrap();
        assert!(near(v[0].unwrap(), 7.604061727024453, 1e-9), "{v:?}");
        assert_eq!((v[2], v[5]), (None, None));
        let p = geom_of(
            &one("SELECT ivo_epoch_prop_pos(7.606083572, 11.79044105, 125, 300, -428.8, NULL, 2016, 1992.25)")
                .await,
        )
        .unwrap();
        assert!(near(p[0], 7.604061727024712, 1e-9) && near(p[1], 11.793269931749549, 1e-9));
        let v =
            one("SELECT ivo_epoch_prop(NULL, 11.79044105, 125, 300, -428.8, 52.51, 2016, 1992.25)")
                .await;
        assert_eq!(list_of(&v), None);
    }
}
