#!/usr/bin/env bash
# Ingest benchmark (not a test): rows/s and peak RSS for synthetic catalogues
# of 10 M and 100 M rows, plus DuckDB writing the same rows to Parquet sorted
# by source_id in the same run, as a yardstick. Release build.
#   scripts/bench-ingest.sh [ROWS...]     (default: 10000000 100000000)
# Needs: /usr/bin/time (Debian package `time`), conformance/setup.sh's venv.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=("${@:-10000000 100000000}")
[ $# -eq 0 ] && rows=(10000000 100000000)
cargo build --release -p astrolake-services
bin=target/release/astrolake
py=${ASTROLAKE_PYTHON:-target/pyenv/bin/python}
work=${BENCH_DIR:-target/bench}
mkdir -p "$work"
printf "%-12s %-34s %10s %12s %10s\n" rows step seconds rows/s peakRSS_MB
for n in "${rows[@]}"; do
  rm -rf "$work/synth-$n" "$work/parquet-$n"
  # 1. synth: generate + index + partition + write (the whole ingest path).
  /usr/bin/time -f "%e %M" -o "$work/t" "$bin" synth --catalog "$work/synth-$n" --rows "$n" --tables gaia_source --no-progress 2>/dev/null
  read -r s kb < "$work/t"
  printf "%-12s %-34s %10.1f %12.0f %10.0f\n" "$n" "synth gaia_source" "$s" "$(echo "$n / $s" | bc -l)" "$(echo "$kb / 1024" | bc -l)"
  # 2. ingest those Parquet files again as input (read + index + partition + write).
  /usr/bin/time -f "%e %M" -o "$work/t" "$bin" ingest --catalog "$work/parquet-$n" --table gaia.gaia_source --no-progress \
      "$work/synth-$n/gaia/gaia_source/dataset/Norder=*/Dir=*/*.parquet" 2>/dev/null
  read -r s2 kb2 < "$work/t"
  printf "%-12s %-34s %10.1f %12.0f %10.0f\n" "$n" "ingest Parquet -> HATS" "$s2" "$(echo "$n / $s2" | bc -l)" "$(echo "$kb2 / 1024" | bc -l)"
  # 3. DuckDB: the same files, rewritten sorted (no HEALPix: a yardstick).
  if [ -x "$py" ]; then
    /usr/bin/time -f "%e %M" -o "$work/t" "$py" - "$work/synth-$n/gaia/gaia_source/dataset/*/*/*.parquet" "$work/duck-$n.parquet" <<'PY'
import sys, duckdb
src, out = sys.argv[1:3]
duckdb.sql(f"COPY (SELECT * FROM read_parquet('{src}') ORDER BY _healpix_29) TO '{out}' (FORMAT parquet, COMPRESSION snappy)")
PY
    read -r s3 kb3 < "$work/t"
    printf "%-12s %-34s %10.1f %12.0f %10.0f\n" "$n" "duckdb sorted rewrite (yardstick)" "$s3" "$(echo "$n / $s3" | bc -l)" "$(echo "$kb3 / 1024" | bc -l)"
    printf "%-12s %-34s %10.2f\n" "$n" "ratio ingest/duckdb (time)" "$(echo "$s2 / $s3" | bc -l)"
    rm -f "$work/duck-$n.parquet"
  fi
  rm -rf "$work/parquet-$n"
done
