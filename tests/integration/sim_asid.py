"""Simulated-host part of the asid area. The asid work replaces this file."""


def populate(host):
    pass
