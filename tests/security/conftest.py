"""The attack suite: one test per attack we know of, run against real servers on loopback.

Each module takes one surface (remote calls, query shapes, request bodies, writes, loader
inputs, output); ``docs/security.md`` says what each protects and with which setting.
Module names start with ``test_attack_`` so they never collide with the other test modules.
"""
