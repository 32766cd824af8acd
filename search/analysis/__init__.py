"""Analysis: how text becomes index terms (tokens, folding, stop words, Snowball stems).

The same analyzers index articles and parse queries.
"""
