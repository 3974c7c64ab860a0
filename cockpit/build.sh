#!/bin/sh
# Called by meson: installs the npm packages pinned in package-lock.json into the build tree
# (once per lock file), then builds the page into OUTDIR.
#   build.sh SRCDIR NPMDIR OUTDIR
set -eu
src=$1 npmdir=$2 out=$3
mkdir -p "$npmdir"
if ! cmp -s "$src/package-lock.json" "$npmdir/package-lock.json" || [ ! -d "$npmdir/node_modules" ]; then
        cp "$src/package.json" "$src/package-lock.json" "$npmdir/"
        # --ignore-scripts: esbuild's binary comes from its optional per-platform package; no
        # package here needs an install script. playwright-core downloads no browser.
        (cd "$npmdir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi
exec node "$src/build.mjs" "$src" "$npmdir/node_modules" "$out"
