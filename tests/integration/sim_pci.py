"""Simulated-host part of the pci area. The pci work replaces this file."""


def populate(host):
    pass
