"""Simulated-host part of the psp area. The psp work replaces this file."""


def populate(host):
    pass
