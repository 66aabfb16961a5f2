#!/usr/bin/env python3
"""Open an astrolake table with the PyPI `hats` package and compare every row
with the original real-data file, parsed independently here.

usage: check_hats.py TABLE_DIR gaia|hip2 RAW_FILE
Prints a JSON summary; exits non-zero on any difference.
"""
import json, os, struct, sys

import numpy as np
import pandas as pd
import hats
from hats.io.validation import is_valid_catalog

table_dir, kind, raw = sys.argv[1:4]
fail = []

if not is_valid_catalog(table_dir, strict=True):
    fail.append("hats strict validation failed")
cat = hats.read_hats(table_dir)
info = cat.catalog_info
pixels = cat.get_healpix_pixels()
frames = []
for p in pixels:
    df = pd.DataFrame(cat.read_pixel_to_pandas(p))
    h = df["_healpix_29"].to_numpy(dtype=np.int64)
    if not (np.all(np.diff(h) >= 0) and np.all((h >> (2 * (29 - p.order))) == p.pixel)):
        fail.append(f"pixel {p}: _healpix_29 not sorted or outside the pixel")
    frames.append(df)
got = pd.concat(frames, ignore_index=True)
if len(got) != info.total_rows:
    fail.append(f"hats_nrows {info.total_rows} but {len(got)} rows read")

if kind == "gaia":
    with open(raw, "rb") as f:
        buf = f.read()
    n = struct.unpack_from("<Q", buf, 8)[0]
    rec = np.frombuffer(buf, dtype=np.dtype([("source_id", "<i8"), ("ra", "<f8"), ("dec", "<f8"),
                                             ("g", "<f4"), ("bp", "<f4"), ("rp", "<f4")]), count=n, offset=16)
    rec = rec[rec["source_id"] > 0]
    ref = pd.DataFrame({"source_id": rec["source_id"], "ra": rec["ra"], "dec": rec["dec"],
                        "phot_g_mean_mag": rec["g"],
                        "phot_bp_mean_mag": np.where(rec["bp"] == 0, np.nan, rec["bp"]).astype("f4"),
                        "phot_rp_mean_mag": np.where(rec["rp"] == 0, np.nan, rec["rp"]).astype("f4")})
    key, exact, close = "source_id", ["source_id", "ra", "dec", "phot_g_mean_mag", "phot_bp_mean_mag", "phot_rp_mean_mag"], []
else:
    rows = {"hip": [], "ra": [], "dec": [], "parallax": [], "pmra": [], "pmdec": [], "hpmag": [], "b_v": [], "v_i": []}
    with open(raw) as f:
        for line in f:
            rows["hip"].append(int(line[0:6])); rows["ra"].append(np.degrees(float(line[15:28])))
            rows["dec"].append(np.degrees(float(line[29:42]))); rows["parallax"].append(float(line[43:50]))
            rows["pmra"].append(float(line[51:59])); rows["pmdec"].append(float(line[60:68]))
            rows["hpmag"].append(float(line[129:136])); rows["b_v"].append(float(line[152:158]))
            rows["v_i"].append(float(line[165:171]))
    ref = pd.DataFrame(rows)
    key, exact, close = "hip", ["hip", "parallax", "pmra", "pmdec", "hpmag", "b_v", "v_i"], ["ra", "dec"]

# The MOC 2.0 coverage, read by mocpy: every row inside, same sky fraction.
import astropy.units as u
from mocpy import MOC
moc = MOC.from_fits(os.path.join(table_dir, "coverage.moc.fits"))
inside = moc.contains_lonlat(got["ra"].to_numpy(dtype="f8") * u.deg, got["dec"].to_numpy(dtype="f8") * u.deg)
if not inside.all():
    fail.append(f"{int((~inside).sum())} rows outside coverage.moc.fits")
if abs(moc.sky_fraction - float(info.moc_sky_fraction)) > 1e-4:
    fail.append(f"MOC sky fraction {moc.sky_fraction} but moc_sky_fraction={info.moc_sky_fraction}")

got = got.sort_values(key).reset_index(drop=True)
ref = ref.sort_values(key).reset_index(drop=True)
if len(got) != len(ref):
    fail.append(f"{len(got)} rows in the table, {len(ref)} in {raw}")
else:
    for c in exact:
        a = got[c].to_numpy(dtype=ref[c].dtype, na_value=np.nan) if ref[c].dtype.kind == "f" else got[c].to_numpy(dtype=ref[c].dtype)
        b = ref[c].to_numpy()
        same = (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else (a == b)
        if not np.all(same):
            fail.append(f"column {c}: {int((~same).sum())} values differ")
    for c in close:
        d = np.abs(got[c].to_numpy(dtype="f8") - ref[c].to_numpy())
        if d.max() > 1e-12:
            fail.append(f"column {c}: max difference {d.max()} deg")

print(json.dumps({"rows": int(len(got)), "partitions": len(pixels), "moc_sky_fraction": moc.sky_fraction, "catalog_type": str(info.catalog_type),
                  "total_rows": info.total_rows, "ra_column": info.ra_column, "failures": fail}))
sys.exit(1 if fail else 0)
