"""Hostile or unusual surroundings of the metrics export: the textfile directory holds things
hwsecd did not put there (a directory named hwsecd.prom, a planted symlink, a leftover temporary
file), or the configuration names a relative path. The daemon must keep serving, never write
through a link, count failures in hwsecd_metrics_export_errors_total, and clean up only its own
leftovers."""

import os

from promtools import parse_samples, value, wait_for
from test_metrics import NAME, textfile_host, wait_file


def metrics(hwsecctl, host):
    return parse_samples(hwsecctl(host, 'metrics', check=True).stdout)


def test_hwsecd_prom_is_a_directory(host, daemon, hwsecctl):
    """Mutation: hwsecd.prom exists as a directory, so rename() fails (EISDIR). hwsecd counts it
    (hwsecd_metrics_export_errors_total >= 1 in `hwsecctl metrics`), logs one error, leaves no
    hwsecd.prom.<pid> behind and writes the file once the directory is gone (figures: errors
    >= 1, then a regular hwsecd.prom with hwsecd_build_info)."""
    d = textfile_host(host)
    (d / NAME).mkdir()
    (d / NAME / 'keep').write_text('x')
    dm = daemon(host)
    wait_for(lambda: (value(metrics(hwsecctl, host), 'hwsecd_metrics_export_errors_total') or 0) >= 1, 30,
             'an export error')
    assert dm.running()
    assert not [p for p in d.iterdir() if p.name != NAME], list(d.iterdir())
    assert (d / NAME / 'keep').read_text() == 'x'
    (d / NAME / 'keep').unlink()
    (d / NAME).rmdir()
    # The heartbeat is minutes away: a change (a Refresh call) brings the next export.
    dm.call('/org/hwsecd1/asid', 'org.hwsecd1.Asid', 'Refresh')
    text = wait_file(d, lambda t: 'hwsecd_build_info' in t, timeout=30)
    assert (d / NAME).is_file() and text.endswith('\n')


def test_planted_symlink_is_replaced_not_followed(host, daemon, tmp_path):
    """Mutation: hwsecd.prom is a symlink to a file outside the directory (an attacker's hope to
    make root overwrite it). The export renames over the link: the target keeps its content
    (figure: 'precious'), hwsecd.prom becomes a regular file of mode 0644."""
    d = textfile_host(host)
    target = tmp_path / 'precious'
    target.write_text('precious')
    os.symlink(target, d / NAME)
    daemon(host)
    wait_for(lambda: (d / NAME).exists() and not (d / NAME).is_symlink(), 30, 'a regular hwsecd.prom')
    assert target.read_text() == 'precious'
    assert oct((d / NAME).stat().st_mode & 0o777) == oct(0o644)


def test_leftover_temp_files(host, daemon):
    """A crash left hwsecd.prom.<dead pid> (a regular file): it is removed at start. Names that
    are not ours (hwsecd.prom.tmp, other.prom.<pid>, a symlink hwsecd.prom.<dead pid>) stay
    (figures: 1 removed, 3 kept)."""
    d = textfile_host(host)
    dead = 4194303        # above the default pid_max range of live processes here
    assert not os.path.exists(f'/proc/{dead}')
    (d / f'{NAME}.{dead}').write_text('half')
    (d / f'{NAME}.tmp').write_text('not ours')
    (d / f'other.prom.{dead}').write_text('not ours')
    os.symlink('/nonexistent', d / f'{NAME}.{dead - 1}')
    daemon(host)
    wait_file(d)
    assert not (d / f'{NAME}.{dead}').exists()
    assert (d / f'{NAME}.tmp').exists() and (d / f'other.prom.{dead}').exists()
    assert (d / f'{NAME}.{dead - 1}').is_symlink()


def test_relative_directory_is_refused(host, daemon, hwsecctl):
    """TextfileDirectory=textfile (relative: it would land in the daemon's working directory):
    the export is off with one log line, the daemon serves and `hwsecctl metrics` works."""
    host.config('[Metrics]\nTextfileDirectory=textfile\n')
    dm = daemon(host)
    wait_for(lambda: 'is not an absolute path' in dm.log(), 20, 'the log line')
    assert any(k[0] == 'hwsecd_build_info' and v == 1 for k, v in metrics(hwsecctl, host).items())
