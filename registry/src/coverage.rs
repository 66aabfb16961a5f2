//! Spatial coverage for VODataService 1.2 (`<coverage><spatial>`): the
//! union of the tables' MOC files, degraded to a coarse order and written
//! as an ASCII MOC (IVOA MOC 2.0), with the `moc` crate.

use moc::deser::ascii::to_ascii_ivoa;
use moc::deser::fits::{from_fits_ivoa, MocIdxType, MocQtyType, MocType};
use moc::moc::range::RangeMOC;
use moc::moc::{CellMOCIntoIterator, CellMOCIterator, RangeMOCIntoIterator, RangeMOCIterator};
use moc::qty::Hpx;

use crate::error::RegistryError;

/// The order coverage is given at: VODataService 1.2 asks for at least 6
/// (about a degree) while keeping the MOC to a few dozen kB.
pub const COVERAGE_ORDER: u8 = 6;

/// Read one MOC FITS file (HEALPix, 64-bit indices, as the store writes).
pub fn read_fits(bytes: &[u8]) -> Result<RangeMOC<u64, Hpx<u64>>, RegistryError> {
    let moc = from_fits_ivoa(std::io::Cursor::new(bytes))
        .map_err(|e| RegistryError::Moc(e.to_string()))?;
    match moc {
        MocIdxType::U64(MocQtyType::Hpx(MocType::Ranges(r))) => Ok(r.into_range_moc()),
        MocIdxType::U64(MocQtyType::Hpx(MocType::Cells(c))) => {
            Ok(c.into_cell_moc_iter().ranges().into_range_moc())
        }
        _ => Err(RegistryError::Moc(
            "not a 64-bit HEALPix (spatial) MOC".into(),
        )),
    }
}

/// The union of `mocs` (FITS files), degraded to [`COVERAGE_ORDER`] when
/// finer, as ASCII; `None` when there is none.
pub fn ascii_union<B: AsRef<[u8]>>(mocs: &[B]) -> Result<Option<String>, RegistryError> {
    let mut union: Option<RangeMOC<u64, Hpx<u64>>> = None;
    for b in mocs {
        let m = read_fits(b.as_ref())?;
        let m = if m.depth_max() > COVERAGE_ORDER {
            m.degraded(COVERAGE_ORDER)
        } else {
            m
        };
        union = Some(match union {
            Some(u) => u.or(&m),
            None => m,
        });
    }
    let Some(u) = union else { return Ok(None) };
    let mut out = Vec::new();
    to_ascii_ivoa(
        (&u).into_range_moc_iter().cells().cellranges(),
        &None,
        false,
        &mut out,
    )
    .map_err(|e| RegistryError::Moc(e.to_string()))?;
    Ok(Some(String::from_utf8_lossy(&out).trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use moc::deser::fits::ranges_to_fits_ivoa;

    fn fits(order: u8, cells: Vec<u64>) -> Vec<u8> {
        let moc = RangeMOC::<u64, Hpx<u64>>::from_fixed_depth_cells(order, cells.into_iter(), None);
        let mut buf = Vec::new();
        ranges_to_fits_ivoa((&moc).into_range_moc_iter(), None, None, &mut buf).unwrap();
        buf
    }

    #[test]
    fn union_of_two_mocs_at_coverage_order() {
        // Order-8 cells 0..16 are exactly order-6 cell 0.
        let a = fits(8, (0..16).collect());
        let b = fits(3, vec![64]);
        let s = ascii_union(&[a, b]).unwrap().unwrap();
        assert_eq!(s, "3/64 6/0");
        assert_eq!(ascii_union::<Vec<u8>>(&[]).unwrap(), None);
        assert!(ascii_union(&[b"not a fits file".to_vec()]).is_err());
    }
}
