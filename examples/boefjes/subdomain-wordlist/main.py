"""Candidate subdomains of the input hostname, one per line (text/x-hostnames).

An OpenKAT boefje as OpenKAT defines it: run(boefje_meta) returns a list of
(mime_types, raw) pairs; settings from schema.json arrive as environment
variables. No network: the candidates come from the WORDS setting.
"""
import os


def run(boefje_meta: dict) -> list[tuple[set, bytes | str]]:
    hostname = boefje_meta["arguments"]["input"]["name"].rstrip(".")
    words = os.getenv("WORDS", "www,mail,vpn").split(",")
    limit = int(os.getenv("MAX_NAMES", "100"))
    names = [f"{word}.{hostname}" for word in words][:limit]
    return [({"text/x-hostnames"}, "\n".join(names) + "\n")]
