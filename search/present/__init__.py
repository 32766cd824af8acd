"""Presentation: the records a search returns (``Results``, ``Hit``, ``Snippet``), snippets with
the matched words located, and how they look in a terminal.
"""
