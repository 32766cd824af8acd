"""Interfaces on top of the public API: the ``newsearch`` command, the interactive prompt and its
line editing. Thin: each calls ``search.open_index`` and ``Index`` methods.
"""
