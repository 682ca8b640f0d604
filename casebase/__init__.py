"""The case base: the guide's cases as records, their schema, the check that every sentence is
the guide's own, user YAML read safely, and the card a case is shown as.

It is what the console shows and checks and what the search reads; it holds nothing of the search
(no tokenizer, no index, no numpy), so the web process can load it and stay small.
"""
