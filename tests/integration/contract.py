"""Compare the live D-Bus introspection with the contract in dbus/*.xml."""

import pathlib
import re
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parents[2]


def contract_files():
    return sorted((ROOT / 'dbus').glob('org.hwsecd1.*.xml'))


def contract_path(xml_file):
    m = re.search(r'<!--\s*path:\s*(\S+)\s*-->', pathlib.Path(xml_file).read_text())
    if not m:
        raise AssertionError(f'{xml_file} has no <!-- path: ... --> comment')
    return m.group(1)


def normalise(elem):
    """(tag, sorted attributes, children) with whitespace and comments dropped."""
    return (elem.tag, tuple(sorted(elem.attrib.items())),
            tuple(normalise(c) for c in elem if isinstance(c.tag, str)))


def interfaces(xml_text):
    root = ET.fromstring(xml_text)
    return {i.get('name'): normalise(i) for i in root.findall('interface')}
