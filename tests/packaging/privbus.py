#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""privbus.py DIR POLICY.conf...

Writes DIR/bus.conf: the distribution's /usr/share/dbus-1/system.conf (default-deny own and
method calls) made private (listens on DIR/system_bus_socket, no user switch, fork, pid file,
syslog, activation or host policy includes), plus DIR/system.d holding copies of the given bus
policy files. Prints the bus address. Start it with
  dbus-daemon --config-file=DIR/bus.conf --nofork --nopidfile
Used by the packaging tests and by scripts/bench.
"""
import os
import shutil
import sys
import xml.etree.ElementTree as ET

SYSTEM_CONF = "/usr/share/dbus-1/system.conf"
DROP = {"user", "fork", "pidfile", "syslog", "servicehelper", "standard_system_servicedirs",
        "includedir", "include", "listen", "keep_umask", "apparmor", "selinux",
        "servicedir"}
HEADER = ('<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"\n'
          ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n')


def write_config(directory, policies):
    directory = os.path.abspath(directory)
    sysd = os.path.join(directory, "system.d")
    os.makedirs(sysd, exist_ok=True)
    for p in policies:
        shutil.copy(p, os.path.join(sysd, os.path.basename(p)))
    root = ET.parse(SYSTEM_CONF).getroot()
    for child in list(root):
        if child.tag in DROP:
            root.remove(child)
    sock = os.path.join(directory, "system_bus_socket")
    listen = ET.Element("listen")
    listen.text = "unix:path=" + sock
    root.insert(1, listen)
    inc = ET.SubElement(root, "includedir")
    inc.text = sysd
    with open(os.path.join(directory, "bus.conf"), "w", encoding="utf-8") as f:
        f.write(HEADER + ET.tostring(root, encoding="unicode") + "\n")
    return "unix:path=" + sock


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    print(write_config(sys.argv[1], sys.argv[2:]))
