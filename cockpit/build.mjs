// Builds the cockpit package into OUTDIR: bundles src/hwsecd.js and src/hwsecd.css (with
// PatternFly) with esbuild, copies index.html and manifest.json. Run by meson (cockpit/build.sh).
//   node build.mjs SRCDIR NODE_MODULES OUTDIR
import { createRequire } from 'node:module';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const [srcdir, nodeModules, outdir] = process.argv.slice(2);
const require = createRequire(path.join(nodeModules, 'noop.js'));
const esbuild = require('esbuild');

// PatternFly's fonts are served by cockpit itself (/cockpit/static/fonts/, two levels above
// /cockpit/@host/hwsecd/): point the @font-face rules there instead of bundling 2 MB of fonts.
// Cockpit ships no variable fonts, so the VF files map to the static Regular/Italic ones. The
// icon fonts are not used by this page and stay unresolved (a browser loads a font only when a
// glyph needs it).
const cockpitFonts = {
    name: 'cockpit-fonts',
    setup(build) {
        build.onResolve({ filter: /^\.\/assets\// }, args => {
            const m = args.path.match(/^\.\/assets\/fonts\/RedHat[A-Za-z]+\/(RedHat[A-Za-z]+?)(VF)?(-[A-Za-z]+)?\.woff2$/);
            if (!m)
                return { path: args.path, external: true };
            const style = m[3] || (m[2] ? '-Regular' : '');
            return { path: `../../static/fonts/${m[1]}${style}.woff2`, external: true };
        });
    },
};

mkdirSync(outdir, { recursive: true });
await esbuild.build({
    entryPoints: [path.join(srcdir, 'src/hwsecd.js'), path.join(srcdir, 'src/hwsecd.css')],
    outdir,
    bundle: true,
    minify: true,
    sourcemap: false,
    target: ['chrome110', 'firefox110'],
    nodePaths: [nodeModules],
    external: ['../base1/cockpit.js'],
    plugins: [cockpitFonts],
    logLevel: 'warning',
});
for (const f of ['index.html', 'manifest.json'])
    copyFileSync(path.join(srcdir, 'src', f), path.join(outdir, f));
