"""Debian's Prometheus binaries for the metrics tests: promtool, prometheus and
prometheus-node-exporter, taken out of the bookworm .debs with `apt-get download` and
`dpkg-deb -x` (installing the packages would start their daemons on :9090 and :9100), and helpers
to run them on loopback ports chosen here. The cache is <top>/build-prom/ (scripts/lib.sh
hwsec_prometheus_binaries fills the same place); $HWSECD_PROM_ROOT overrides it."""

import os
import pathlib
import socket
import subprocess
import time
import urllib.request

from conftest import ROOT, scaled

PACKAGES = ('prometheus', 'prometheus-node-exporter')
PROM_ROOT = pathlib.Path(os.environ.get('HWSECD_PROM_ROOT', ROOT / 'build-prom' / 'root'))


def bindir():
    """<root>/usr/bin with the three binaries, extracting the .debs first when they are missing."""
    b = PROM_ROOT / 'usr' / 'bin'
    if all((b / n).exists() for n in ('promtool', 'prometheus', 'prometheus-node-exporter')):
        return b
    debs = PROM_ROOT.parent / 'debs'
    debs.mkdir(parents=True, exist_ok=True)
    subprocess.run(['apt-get', 'download', *PACKAGES], cwd=debs, check=True, capture_output=True)
    for d in sorted(debs.glob('*.deb')):
        subprocess.run(['dpkg-deb', '-x', str(d), str(PROM_ROOT)], check=True)
    return b


def promtool(*args, input=None):
    return subprocess.run([str(bindir() / 'promtool'), *map(str, args)], input=input, capture_output=True,
                          text=True, timeout=scaled(60))


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=scaled(timeout)) as r:
        return r.read().decode()


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + scaled(timeout)
    last = None
    while time.monotonic() < deadline:
        try:
            last = cond()
            if last:
                return last
        except Exception as e:          # the server may not listen yet
            last = e
        time.sleep(0.2)
    raise AssertionError(f'timed out waiting for {what} (last: {last!r})')


class Server:
    """A binary on 127.0.0.1:<free port>, its output in logpath; stop() ends it."""

    def __init__(self, name, args, logpath):
        self.port = free_port()
        self.logpath = logpath
        self.log = open(logpath, 'w')
        self.proc = subprocess.Popen([str(bindir() / name), *[a.format(port=self.port) for a in args]],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f'http://127.0.0.1:{self.port}'

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(scaled(20))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def output(self):
        return pathlib.Path(self.logpath).read_text(errors='replace')


def node_exporter(textfile_dir, logpath):
    s = Server('prometheus-node-exporter',
               ['--web.listen-address=127.0.0.1:{port}', '--collector.disable-defaults', '--collector.textfile',
                f'--collector.textfile.directory={textfile_dir}'], logpath)
    wait_for(lambda: 'node_textfile_scrape_error' in http_get(s.url + '/metrics'), 30, 'node_exporter to serve')
    return s


def parse_samples(text):
    """{(name, frozenset(labels.items())): value} of an exposition (enough for our own output)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        series, value = line.rsplit(' ', 1)
        if '{' in series:
            name, rest = series.split('{', 1)
            labels = {}
            for part in split_labels(rest[:-1]):
                k, v = part.split('=', 1)
                labels[k] = v[1:-1].encode().decode('unicode_escape')
            out[(name, frozenset(labels.items()))] = float(value)
        else:
            out[(series, frozenset())] = float(value)
    return out


def split_labels(s):
    parts, cur, quoted, esc = [], '', False, False
    for c in s:
        if esc:
            cur += c
            esc = False
        elif c == '\\':
            cur += c
            esc = True
        elif c == '"':
            cur += c
            quoted = not quoted
        elif c == ',' and not quoted:
            parts.append(cur)
            cur = ''
        else:
            cur += c
    if cur:
        parts.append(cur)
    return parts


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))
