"""The kinds of field report, in the order staff see them (buttons, the Slack form, the console's
filter, the weekly summary, the chart's stacking, ``nimo reports export --type``).

One list that the others import, so that a new kind is added here once (and, since the database
checks it, in a migration of the ``reports`` table: tests/test_layering.py checks the two agree).
A module of its own so that the CLI can name the kinds without loading the report code.
"""
TYPES = ("訪問", "電話", "同行受診", "会議・協議の場", "ピア活動", "その他")
