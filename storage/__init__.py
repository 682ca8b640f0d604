"""Nimo's database: the one connection factory (:mod:`storage.connections`), the numbered
migrations that own every table (:mod:`storage.migrations`), the checks a file passes before it is
opened (:mod:`storage.files`), what a failed statement means (:mod:`storage.failures`), and backup
and restore (:mod:`storage.backup`).

It sits beside ``knowledge/`` and ``scheduler/`` and, like them, never imports ``bot``
(tests/test_layering.py): the scheduler's engine opens its connections here too.  It holds no
words a user reads: problems are codes, and ``bot/messages.py`` says them in Japanese.
"""
