"""Simulated-host part of the sfs area. The sfs work replaces this file."""


def populate(host):
    pass
